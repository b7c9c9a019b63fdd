package dev.rlhf.actors;

import java.util.Optional;
import java.util.TreeSet;

/**
 * When reward-model versions train and when the scorer switches to them, in iterated RLHF: a plain state machine
 * the coordinator drives at iteration boundaries and as judgments and trainings come back. Every decision depends
 * only on the iterations and sequence numbers involved, never on when an answer arrives, so runs of one seed
 * switch versions at the same iterations.
 *
 * <ul>
 *   <li>The first reward model trains on the initial comparisons and is due at iteration 0, unless the run starts
 *       from a given one ({@link #given}).
 *   <li>Once a batch of iteration {@code i}'s pairs is judged and at least {@code retrain-after} judgments arrived
 *       since the last training's, a new version trains on every judgment so far; it is due at iteration
 *       {@code i + 2}, unless the run ends first (then it does not train). One training at a time.
 *   <li>At its due iteration the loop waits for a training still running, then swaps it in; it also waits for
 *       iteration {@code i}'s judgments at iteration {@code i + 2}, where they could start a training.
 *   <li>When people judge (the human and mixed modes), their judgments arrive at no set time: at the boundary
 *       before iteration {@code i} the store's newest sequence number is counted the same way, and a training it
 *       starts is due at {@code i + 2}. A batch people alone judge counts as sent once its tasks are durable
 *       ({@link #queued}); the loop never waits for people.
 * </ul>
 *
 * @param <V> a trained version (the schedule only holds it)
 */
final class RewardModelSchedule<V> {
    /** What the loop does at an iteration boundary. */
    enum Step {
        /** Go on with the version in use. */
        PROCEED,
        /** A version is due and ready: {@link #swap()} it in, then go on. */
        SWAP,
        /** Wait: a version due now is still training, or judgments that may start one are still out. */
        AWAIT
    }

    /** A training to start: {@code version} on every judgment through {@code throughSequence}. */
    record Training(int version, long throughSequence, int dueIteration) {}

    /** A version swapped in, and the one it retires (null if none was in use). */
    record Swapped<V>(int version, V now, V retired) {}

    private final int iterations;
    private final int retrainAfter;
    private int versionInUse;
    private V inUse;
    /** The newest judgment the version in use trained on. */
    private long trainedThrough = -1;
    /** The newest judgment handed to a training. */
    private long judgedForTraining;
    /** The iteration a training in flight is due at; -1 when none is. */
    private int dueIteration = -1;
    private V ready;
    private long readyTrainedThrough;
    /** Iterations whose pairs were sent for judgment and are not judged yet. */
    private final TreeSet<Integer> batchesOut = new TreeSet<>();

    private RewardModelSchedule(int iterations, int retrainAfter) {
        this.iterations = iterations;
        this.retrainAfter = retrainAfter;
    }

    /** A run from its start: no version yet. */
    static <V> RewardModelSchedule<V> fresh(int iterations, int retrainAfter) {
        return new RewardModelSchedule<>(iterations, retrainAfter);
    }

    /** A run from its start with a given reward model in use as version 1 (it trained on none of the run's judgments). */
    static <V> RewardModelSchedule<V> given(int iterations, int retrainAfter, V version) {
        RewardModelSchedule<V> schedule = new RewardModelSchedule<>(iterations, retrainAfter);
        schedule.versionInUse = 1;
        schedule.inUse = version;
        return schedule;
    }

    /**
     * A run resumed from a checkpoint's state, with {@code inUse} the version it was scoring with (null before the
     * first); a training in flight at the checkpoint is in {@link #trainingToRedo()}.
     */
    static <V> RewardModelSchedule<V> resumed(int iterations, int retrainAfter, RunCheckpoint.State state, V inUse) {
        RewardModelSchedule<V> schedule = new RewardModelSchedule<>(iterations, retrainAfter);
        schedule.trainedThrough = state.preferenceSequence();
        schedule.judgedForTraining = state.judgedForTraining();
        schedule.dueIteration = state.retrainingDue();
        if (inUse != null) {
            schedule.versionInUse = state.rewardModelVersion();
            schedule.inUse = inUse;
        }
        return schedule;
    }

    /** The training that was in flight at the checkpoint this run resumed from, redone on the same judgments. */
    Optional<Training> trainingToRedo() {
        return training() ? Optional.of(nextTraining()) : Optional.empty();
    }

    /** The initial comparisons went out for judgment: the first version is due at iteration 0. */
    void initialComparisonsSent() {
        dueIteration = 0;
    }

    /** Iteration {@code iteration}'s pairs went out for judgment. */
    void pairsSent(int iteration) {
        batchesOut.add(iteration);
    }

    /**
     * A batch was judged ({@code iteration} is {@link ExperimentPlan.ComparisonBatch#INITIAL} for the initial
     * comparisons), its newest judgment at {@code lastSequence} (-1 if it has none); returns the training this
     * starts, if any.
     */
    Optional<Training> judged(int iteration, long lastSequence) {
        batchesOut.remove(iteration);
        boolean initial = iteration == ExperimentPlan.ComparisonBatch.INITIAL;
        int due = initial ? 0 : iteration + 2;
        long newest = Math.max(lastSequence, judgedForTraining);
        boolean enough = newest - judgedForTraining >= retrainAfter;
        // a version that could not be used before the run ends is not worth training
        if (!initial && (!enough || training() || due >= iterations)) {
            return Optional.empty();
        }
        dueIteration = due;
        judgedForTraining = newest;
        return Optional.of(nextTraining());
    }

    /** Iteration {@code iteration}'s pairs are durable in the labeling queue, for people alone to judge. */
    void queued(int iteration) {
        batchesOut.remove(iteration);
    }

    /**
     * At the boundary before {@code iteration}, the store's newest judgment is at {@code newestSequence} (people's
     * among the judgments since the last training's); returns the training this starts, if any: once reward model
     * v1 is in use, none is training and at least {@code retrain-after} judgments arrived since the last training's,
     * a version trains on every judgment through {@code newestSequence}, due at {@code iteration + 2} unless the
     * run ends first (then it does not train).
     */
    Optional<Training> judgmentsArrived(int iteration, long newestSequence) {
        int due = iteration + 2;
        if (versionInUse == 0 || training() || judgmentsSinceTraining(newestSequence) < retrainAfter
                || due >= iterations) {
            return Optional.empty();
        }
        dueIteration = due;
        judgedForTraining = newestSequence;
        return Optional.of(nextTraining());
    }

    /** Judgments after the newest one handed to a training, the store's newest being {@code newestSequence}. */
    long judgmentsSinceTraining(long newestSequence) {
        return Math.max(0, newestSequence - judgedForTraining);
    }

    /** The training in flight finished: {@code version} trained through judgment {@code trainedThroughSequence}. */
    void trained(V version, long trainedThroughSequence) {
        if (!training() || ready != null) {
            throw new IllegalStateException("no reward-model training is in flight");
        }
        ready = version;
        readyTrainedThrough = trainedThroughSequence;
    }

    /** What the loop does at the boundary before {@code iteration}. */
    Step at(int iteration) {
        if (iteration == dueIteration) {
            return ready != null ? Step.SWAP : Step.AWAIT;
        }
        boolean judgmentsOut = !batchesOut.isEmpty() && batchesOut.first() + 2 <= iteration;
        return judgmentsOut ? Step.AWAIT : Step.PROCEED;
    }

    /** Puts the ready version in use (at its due iteration). */
    Swapped<V> swap() {
        if (ready == null) {
            throw new IllegalStateException("no reward-model version is ready");
        }
        V retired = inUse;
        versionInUse++;
        inUse = ready;
        trainedThrough = readyTrainedThrough;
        ready = null;
        dueIteration = -1;
        return new Swapped<>(versionInUse, inUse, retired);
    }

    /** Whether a training is in flight (or done and not yet swapped in). */
    boolean training() {
        return dueIteration >= 0;
    }

    int versionInUse() {
        return versionInUse;
    }

    /** The version in use; null before the first. */
    V inUse() {
        return inUse;
    }

    /** The version trained and waiting for its due iteration; null when none is. */
    V ready() {
        return ready;
    }

    /** The schedule's part of a checkpoint at the boundary before {@code iteration}. */
    RunCheckpoint.State checkpointState(int iteration) {
        return new RunCheckpoint.State(iteration, trainedThrough, versionInUse, judgedForTraining, dueIteration);
    }

    private Training nextTraining() {
        return new Training(versionInUse + 1, judgedForTraining, dueIteration);
    }
}
