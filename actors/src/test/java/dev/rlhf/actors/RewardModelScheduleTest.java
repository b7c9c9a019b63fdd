package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.actors.ExperimentPlan.ComparisonBatch;
import dev.rlhf.actors.RewardModelSchedule.Step;
import dev.rlhf.actors.RewardModelSchedule.Training;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every transition of the reward-model schedule, with versions named by strings. */
class RewardModelScheduleTest {
    private static final int ITERATIONS = 10;
    private static final int RETRAIN_AFTER = 30;

    /** A fresh run through reward model v1: initial comparisons judged through sequence 99, v1 trained. */
    private static RewardModelSchedule<String> withFirstVersion() {
        RewardModelSchedule<String> schedule = RewardModelSchedule.fresh(ITERATIONS, RETRAIN_AFTER);
        schedule.initialComparisonsSent();
        schedule.judged(ComparisonBatch.INITIAL, 99);
        schedule.trained("v1", 99);
        assertEquals(Step.SWAP, schedule.at(0));
        schedule.swap();
        return schedule;
    }

    @Test
    void theFirstVersionIsAwaitedAtIterationZeroThenSwappedIn() {
        RewardModelSchedule<String> schedule = RewardModelSchedule.fresh(ITERATIONS, RETRAIN_AFTER);
        schedule.initialComparisonsSent();
        assertEquals(Step.AWAIT, schedule.at(0), "no version yet, and the initial judgments are out");

        Optional<Training> training = schedule.judged(ComparisonBatch.INITIAL, 99);
        assertEquals(Optional.of(new Training(1, 99, 0)), training, "the initial batch always trains v1");
        assertEquals(Step.AWAIT, schedule.at(0), "v1 is still training");

        schedule.trained("v1", 99);
        assertEquals(Step.SWAP, schedule.at(0));
        RewardModelSchedule.Swapped<String> swapped = schedule.swap();

        assertEquals(new RewardModelSchedule.Swapped<>(1, "v1", null), swapped);
        assertEquals(Step.PROCEED, schedule.at(0));
        assertEquals(1, schedule.versionInUse());
        assertFalse(schedule.training());
        assertEquals(new RunCheckpoint.State(0, 99, 1, 99, -1), schedule.checkpointState(0));
    }

    @Test
    void aRetrainingStartsOnceEnoughNewJudgmentsArrivedAndIsDueTwoIterationsAfterTheBatchThatCompletedThem() {
        RewardModelSchedule<String> schedule = withFirstVersion();
        schedule.pairsSent(0);
        assertEquals(Optional.empty(), schedule.judged(0, 120), "21 new judgments are not enough");
        schedule.pairsSent(1);

        Optional<Training> training = schedule.judged(1, 129);

        assertEquals(Optional.of(new Training(2, 129, 3)), training);
        assertTrue(schedule.training());
        assertEquals(new RunCheckpoint.State(2, 99, 1, 129, 3), schedule.checkpointState(2),
                "a checkpoint while it trains records the training to redo");
        assertEquals(Step.PROCEED, schedule.at(2));
        schedule.trained("v2", 129);
        assertEquals(Step.PROCEED, schedule.at(2), "ready early, still swapped in only at its due iteration");
        assertEquals(Step.SWAP, schedule.at(3));
        assertEquals(new RewardModelSchedule.Swapped<>(2, "v2", "v1"), schedule.swap(), "v1 is retired");
        assertEquals(new RunCheckpoint.State(3, 129, 2, 129, -1), schedule.checkpointState(3));
    }

    @Test
    void aRetrainingStillRunningAtItsDueIterationIsAwaited() {
        RewardModelSchedule<String> schedule = withFirstVersion();
        schedule.pairsSent(4);
        schedule.judged(4, 200);

        assertEquals(Step.AWAIT, schedule.at(6), "due at 6 and not trained yet");
        schedule.trained("v2", 200);
        assertEquals(Step.SWAP, schedule.at(6));
    }

    @Test
    void onlyOneTrainingAtATime() {
        RewardModelSchedule<String> schedule = withFirstVersion();
        schedule.judged(0, 200);

        assertEquals(Optional.empty(), schedule.judged(1, 400), "v2 is in flight");
        assertThrows(IllegalStateException.class, schedule::swap, "nothing is ready to swap");
    }

    @Test
    void aVersionThatTheRunWouldNotReachIsNotTrained() {
        RewardModelSchedule<String> schedule = withFirstVersion();

        assertEquals(Optional.empty(), schedule.judged(ITERATIONS - 2, 500), "it would be due at the end");
        assertFalse(schedule.training());
    }

    @Test
    void theBoundaryTwoIterationsAfterABatchWaitsForItsJudgments() {
        RewardModelSchedule<String> schedule = withFirstVersion();
        schedule.pairsSent(3);

        assertEquals(Step.PROCEED, schedule.at(4));
        assertEquals(Step.AWAIT, schedule.at(5), "iteration 3's judgments could start a version due at 5");
        schedule.judged(3, 110);
        assertEquals(Step.PROCEED, schedule.at(5));
    }

    @Test
    void aRunResumedInTheMiddleOfATrainingRedoesItOnTheSameJudgments() {
        RunCheckpoint.State state = new RunCheckpoint.State(4, 129, 2, 180, 5);

        RewardModelSchedule<String> schedule = RewardModelSchedule.resumed(ITERATIONS, RETRAIN_AFTER, state, "v2");

        assertEquals(Optional.of(new Training(3, 180, 5)), schedule.trainingToRedo());
        assertEquals("v2", schedule.inUse());
        assertEquals(Step.PROCEED, schedule.at(4));
        assertEquals(Step.AWAIT, schedule.at(5));
        schedule.trained("v3", 180);
        assertEquals(new RewardModelSchedule.Swapped<>(3, "v3", "v2"), schedule.swap());
        assertEquals(new RunCheckpoint.State(5, 180, 3, 180, -1), schedule.checkpointState(5));
    }

    @Test
    void aRunResumedBeforeItsFirstVersionHasNoneInUse() {
        RunCheckpoint.State state = new RunCheckpoint.State(0, -1, 0, 99, 0);

        RewardModelSchedule<String> schedule = RewardModelSchedule.resumed(ITERATIONS, RETRAIN_AFTER, state, null);

        assertNull(schedule.inUse());
        assertEquals(Optional.of(new Training(1, 99, 0)), schedule.trainingToRedo());
        assertEquals(Step.AWAIT, schedule.at(0));
    }

    @Test
    void aRunResumedWithNoTrainingInFlightRedoesNothing() {
        RunCheckpoint.State state = new RunCheckpoint.State(5, 129, 2, 129, -1);

        RewardModelSchedule<String> schedule = RewardModelSchedule.resumed(ITERATIONS, RETRAIN_AFTER, state, "v2");

        assertEquals(Optional.empty(), schedule.trainingToRedo());
        assertEquals(state, schedule.checkpointState(5));
        assertEquals(Optional.of(new Training(3, 160, 7)), schedule.judged(5, 160), "counted from 129");
    }

    @Test
    void peoplesJudgmentsStartATrainingAtTheBoundaryWhereEnoughHaveArrivedDueTwoIterationsLater() {
        RewardModelSchedule<String> schedule = withFirstVersion();
        schedule.pairsSent(0);
        schedule.queued(0);
        assertEquals(Step.PROCEED, schedule.at(2), "a batch for people is sent once queued: nothing to wait for");

        assertEquals(Optional.empty(), schedule.judgmentsArrived(1, 110), "11 new judgments are not enough");
        assertEquals(11, schedule.judgmentsSinceTraining(110));
        Optional<Training> training = schedule.judgmentsArrived(2, 129);

        assertEquals(Optional.of(new Training(2, 129, 4)), training);
        assertEquals(0, schedule.judgmentsSinceTraining(129), "every judgment so far went to the training");
        assertEquals(Optional.empty(), schedule.judgmentsArrived(3, 500), "v2 is in flight");
        assertEquals(new RunCheckpoint.State(3, 99, 1, 129, 4), schedule.checkpointState(3));
        schedule.trained("v2", 129);
        assertEquals(Step.SWAP, schedule.at(4));
    }

    @Test
    void peoplesJudgmentsStartNothingBeforeTheFirstVersionOrTooLateToBeUsed() {
        RewardModelSchedule<String> fresh = RewardModelSchedule.fresh(ITERATIONS, RETRAIN_AFTER);
        fresh.initialComparisonsSent();
        assertEquals(Optional.empty(), fresh.judgmentsArrived(0, 500), "v1 comes from the initial comparisons");

        RewardModelSchedule<String> schedule = withFirstVersion();
        assertEquals(Optional.empty(), schedule.judgmentsArrived(ITERATIONS - 2, 500), "it would be due at the end");
        assertFalse(schedule.training());
    }
}
