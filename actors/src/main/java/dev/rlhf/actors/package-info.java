/**
 * The roles of an experiment as Pekko typed actors, the {@link dev.rlhf.actors.ExperimentCoordinator} that drives
 * them, and the plain classes holding the loop's logic ({@link dev.rlhf.actors.ExperimentPlan},
 * {@link dev.rlhf.actors.RewardModelSchedule}, {@link dev.rlhf.actors.WorkerRegistry},
 * {@link dev.rlhf.actors.IterationScalars}).
 *
 * <p>Each actor's protocol is one sealed interface of records, and every reply that can fail is a
 * {@link org.apache.pekko.pattern.StatusReply}. Messages hand over what they carry: arrays and lists in a message
 * (token ids, scores, completions, weight snapshots) are not touched by the sender after sending, and the receiver
 * may keep them. Weight snapshots and reward-model versions sent to several actors are only read by them.
 */
package dev.rlhf.actors;
