/**
 * The roles of an experiment as Pekko typed actors, the {@link dev.rlhf.actors.ExperimentCoordinator} that drives
 * them, and the plain classes holding the loop's logic ({@link dev.rlhf.actors.ExperimentPlan},
 * {@link dev.rlhf.actors.RewardModelSchedule}, {@link dev.rlhf.actors.WorkerRegistry},
 * {@link dev.rlhf.actors.IterationScalars}).
 *
 * <p>Each actor's protocol is one sealed interface of records, and every reply that can fail is a
 * {@link org.apache.pekko.pattern.StatusReply}. What a message carries is shared read-only: arrays and lists in
 * a message (token ids, scores, completions, weight snapshots) are never modified after it is sent, by the sender
 * or the receiver, so either may keep and read them. A reward-model version belongs to the coordinator, which
 * closes it once no actor uses it.
 */
package dev.rlhf.actors;
