package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.actors.PreferenceCollector.Collect;
import dev.rlhf.actors.PreferenceCollector.Collected;
import dev.rlhf.actors.PreferenceCollector.Judged;
import dev.rlhf.actors.PreferenceCollector.LastSequence;
import dev.rlhf.actors.PreferenceCollector.Labeling;
import dev.rlhf.actors.PreferenceCollector.ReadLastSequence;
import dev.rlhf.actors.PreferenceCollector.ReadJudged;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.AnnotatorProfile;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The collector over a real store: replies once its batch is judged, runs one Collect at a time, answers requests
 * in the order they came, and turns a store failure into an error reply naming the batch.
 */
@ExtendWith(TestKitJUnit5Extension.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS) // one testkit for the class, shut down after all its tests
class PreferenceCollectorTest {

    /** Two annotators that never skip, each task wanting both: every comparison gets exactly two judgments. */
    private static final int ANNOTATORS = 2;
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(30);

    @JUnit5TestKit ActorTestKit testKit = new JUnit5TestKitBuilder().build();

    private PreferenceStore store;
    private ActorRef<PreferenceCollector.Command> collector;

    @BeforeEach
    void spawnCollectorOverAFreshStore(@TempDir Path dir) {
        store = PreferenceStore.open(new PreferenceStoreSettings(dir.resolve("db"), ANNOTATORS, 4096, 3, 1024, 65536,
                Duration.ofMinutes(30)));
        SimulatedAnnotatorPanel panel = new SimulatedAnnotatorPanel(new AnnotatorPanelSettings(5, 0.25, 0.6,
                List.of(new AnnotatorProfile("first", 0.1, 0.0, 0.0), new AnnotatorProfile("second", 0.5, 0.0, 0.0))));
        collector = testKit.spawn(PreferenceCollector.create(new PreferenceLoop(store, panel)));
    }

    @AfterEach
    void stopCollectorAndCloseStore() {
        testKit.stop(collector);
        store.close();
    }

    @Test
    void collectRepliesWithTheJudgmentsMadeAndTheNewestSequence() {
        TestProbe<StatusReply<Collected>> replies = testKit.createTestProbe();

        collector.tell(new Collect("b1", comparisons("b1", 3), "v1", replies.ref()));
        Collected first = success(replies);
        collector.tell(new Collect("b1", comparisons("b1", 3), "v1", replies.ref()));
        Collected again = success(replies);

        assertEquals(new Collected(3 * ANNOTATORS, 3 * ANNOTATORS), first);
        assertEquals(3 * ANNOTATORS, store.lastSequence());
        assertEquals(new Collected(0, 3 * ANNOTATORS), again, "a re-sent batch makes nothing new, same newest");
    }

    @Test
    void aCollectSentWhileAnotherRunsIsHandledAfterIt() {
        TestProbe<StatusReply<Collected>> replies = testKit.createTestProbe();

        collector.tell(new Collect("early", comparisons("early", 4), "v1", replies.ref()));
        collector.tell(new Collect("late", comparisons("late", 4), "v1", replies.ref()));

        assertEquals(new Collected(4 * ANNOTATORS, 4 * ANNOTATORS), success(replies),
                "the first batch's judgments come first and alone");
        assertEquals(new Collected(4 * ANNOTATORS, 8 * ANNOTATORS), success(replies),
                "the second batch is judged after the first, numbered after it");
        List<String> order = new ArrayList<>();
        store.judgmentsSince(0, 100).forEach(j -> order.add(j.getSubmission().getTaskId().split("-")[0]));
        assertEquals(8 * ANNOTATORS, order.size());
        assertEquals(order.subList(0, 4 * ANNOTATORS), List.of("early", "early", "early", "early", "early", "early",
                "early", "early"), "no judgment of the late batch slipped between the early one's: " + order);
    }

    @Test
    void readJudgedSentRightBehindACollectSeesItsJudgments() {
        TestProbe<StatusReply<Collected>> collected = testKit.createTestProbe();
        TestProbe<StatusReply<Judged>> judged = testKit.createTestProbe();

        collector.tell(new Collect("b1", comparisons("b1", 5), "v1", collected.ref()));
        collector.tell(new ReadJudged(0, Long.MAX_VALUE, judged.ref()));

        StatusReply<Judged> read = judged.receiveMessage(REPLY_TIMEOUT);
        assertTrue(read.isSuccess(), () -> "reading failed: " + read.getError());
        List<JudgedComparison> comparisons = read.getValue().comparisons();
        assertEquals(5 * ANNOTATORS, comparisons.size(), "the read must wait for the Collect sent before it");
        assertEquals(5L * ANNOTATORS, read.getValue().lastSequence());
        assertEquals(new Collected(5 * ANNOTATORS, 5 * ANNOTATORS), success(collected));
    }

    @Test
    void closedStoreAnswersAnErrorNamingTheBatchAndTheCollectorGoesOn() {
        TestProbe<StatusReply<Collected>> replies = testKit.createTestProbe();
        TestProbe<StatusReply<Judged>> judged = testKit.createTestProbe();
        store.close();

        collector.tell(new Collect("iter-7", comparisons("iter-7", 2), "v1", replies.ref()));
        collector.tell(new ReadJudged(0, Long.MAX_VALUE, judged.ref()));

        String error = error(replies);
        assertTrue(error.contains("batch iter-7") && error.contains("closed"),
                "the error must name the batch and the cause: " + error);
        StatusReply<Judged> read = judged.receiveMessage(REPLY_TIMEOUT);
        assertTrue(read.isError() && read.getError().getMessage().contains("closed"),
                "the collector must still answer after a failed Collect: " + read);
    }

    @Test
    void aWriteTheStoreRejectsAnswersAnErrorNamingTheBatch() {
        TestProbe<StatusReply<Collected>> replies = testKit.createTestProbe();
        String tooLong = "b".repeat(200); // task and prompt ids derive from it, and the store caps ids at 128 bytes

        collector.tell(new Collect(tooLong, comparisons("x", 1), "v1", replies.ref()));
        String error = error(replies);
        collector.tell(new Collect("fine", comparisons("fine", 1), "v1", replies.ref()));

        assertTrue(error.contains("batch " + tooLong) && error.contains("prompt_id"),
                "the error must name the batch and the rejected field: " + error);
        assertEquals(new Collected(ANNOTATORS, ANNOTATORS), success(replies), "the next batch goes through");
    }

    @Test
    void aBatchForPeopleIsAnsweredOnceItsTasksAreDurableAndNoSimulatedAnnotatorJudgesIt() throws Exception {
        TestProbe<StatusReply<Collected>> replies = testKit.createTestProbe();

        collector.tell(new Collect("iter-0", comparisons("iter-0", 2), "v1", Labeling.people(1), replies.ref()));

        assertEquals(new Collected(0, -1), success(replies));
        assertEquals(0, store.lastSequence(), "nothing simulated judged the batch");
        assertEquals("iter-0-0", nextTaskId("person"));
        assertEquals("iter-0-1", nextTaskId("another-person"), "each task waits for one person only");
        assertEquals(Optional.empty(), store.nextTask("first").get(), "the panel's annotators are not handed them");
    }

    @Test
    void aMixedBatchGetsThePanelsJudgmentsAndKeepsOneMoreSlotForAPerson() throws Exception {
        TestProbe<StatusReply<Collected>> replies = testKit.createTestProbe();
        TestProbe<StatusReply<LastSequence>> last = testKit.createTestProbe();

        collector.tell(new Collect("b1", comparisons("b1", 2), "v1", Labeling.panelAndPeople(1), replies.ref()));
        Collected collected = success(replies);
        assertEquals("b1-0", nextTaskId("person"), "the task still has a slot after the panel's judgments");
        store.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId("b1-0/person").setTaskId("b1-0")
                .setAnnotatorId("person").setChoice(Choice.CHOICE_A).build()).get();
        collector.tell(new ReadLastSequence(last.ref()));

        assertEquals(new Collected(2 * ANNOTATORS, 2 * ANNOTATORS), collected);
        assertEquals("b1-1", nextTaskId("another-person"), "b1-0 is full: the panel's share and one person");
        StatusReply<LastSequence> read = last.receiveMessage(REPLY_TIMEOUT);
        assertTrue(read.isSuccess(), () -> "reading failed: " + read.getError());
        assertEquals(2 * ANNOTATORS + 1, read.getValue().sequence(), "the person's judgment counts too");
    }

    @Test
    void readLastSequenceSentRightBehindACollectSeesItsJudgments() {
        TestProbe<StatusReply<Collected>> collected = testKit.createTestProbe();
        TestProbe<StatusReply<LastSequence>> last = testKit.createTestProbe();

        collector.tell(new Collect("b1", comparisons("b1", 3), "v1", collected.ref()));
        collector.tell(new ReadLastSequence(last.ref()));

        StatusReply<LastSequence> read = last.receiveMessage(REPLY_TIMEOUT);
        assertTrue(read.isSuccess(), () -> "reading failed: " + read.getError());
        assertEquals(3 * ANNOTATORS, read.getValue().sequence(), "the read must wait for the Collect sent before it");
        success(collected);
    }

    private String nextTaskId(String annotator) throws Exception {
        Optional<ComparisonTask> task = store.nextTask(annotator).get();
        assertTrue(task.isPresent(), annotator + " was handed no task");
        return task.get().getTaskId();
    }

    private static List<Comparison> comparisons(String batchId, int count) {
        List<Comparison> comparisons = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            comparisons.add(new Comparison("Review the hotel " + batchId + " " + i + ".",
                    "The room was nice. The staff was friendly.", "The room was dirty."));
        }
        return comparisons;
    }

    private static Collected success(TestProbe<StatusReply<Collected>> probe) {
        StatusReply<Collected> reply = probe.receiveMessage(REPLY_TIMEOUT);
        assertTrue(reply.isSuccess(), () -> "expected a success but got: " + reply.getError());
        return reply.getValue();
    }

    private static String error(TestProbe<StatusReply<Collected>> probe) {
        StatusReply<Collected> reply = probe.receiveMessage(REPLY_TIMEOUT);
        assertTrue(reply.isError(), () -> "expected an error but got: " + reply.getValue());
        return reply.getError().getMessage();
    }
}
