package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.rejection;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.AnnotatorAgreement;
import dev.rlhf.proto.v1.AnnotatorSummary;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Disagreement;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.PairwiseKappa;
import dev.rlhf.proto.v1.QueueState;
import dev.rlhf.proto.v1.QueueStatus;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Agreement, disagreements, queue status, overview, both-bad and adjudication over small hand-made data. */
class LabelingQueriesTest {

    @TempDir Path dir;
    private final ManualClock clock = new ManualClock();
    private PreferenceStore store;

    @BeforeEach
    void openStore() {
        store = PreferenceStore.open(settings(dir), clock);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    /**
     * Categories on the true candidates (0 first better, 1 second better, 2 tie, 3 both bad): t1 alice/bob/carol
     * 0/0/0; t2 alice 1, bob 1 (shown swapped, answering A), carol 2; t3 alice/bob 3/3; t4 alice 0, bob skip, carol
     * 1 taken back: not an item.
     */
    private void judgeAgreementData() {
        addTasks(store, 4);
        judge("alice", "t1", Choice.CHOICE_A, false);
        judge("bob", "t1", Choice.CHOICE_A, false);
        judge("carol", "t1", Choice.CHOICE_A, false);
        judge("alice", "t2", Choice.CHOICE_B, false);
        judge("bob", "t2", Choice.CHOICE_A, true);
        judge("carol", "t2", Choice.CHOICE_TIE, false);
        judge("alice", "t3", Choice.CHOICE_BOTH_BAD, false);
        judge("bob", "t3", Choice.CHOICE_BOTH_BAD, true);
        judge("alice", "t4", Choice.CHOICE_A, false);
        judge("bob", "t4", Choice.CHOICE_SKIP, false);
        judge("carol", "t4", Choice.CHOICE_B, false);
        store.retractJudgment("t4/carol", "carol").join();
    }

    private void judge(String annotator, String taskId, Choice choice, boolean swapped) {
        JudgmentSubmission.Builder s = judgment(taskId + "/" + annotator, taskId, annotator, choice).toBuilder();
        if (swapped) {
            s.setCandidateA(1).setCandidateB(0);
        }
        store.submitJudgment(s.build()).join();
    }

    @Test
    void agreementReportMatchesTheHandComputedFigures() {
        judgeAgreementData();

        AgreementReport report = store.agreement(1);

        // items t1 (3, 0, 0, 0), t2 (0, 2, 1, 0), t3 (0, 0, 0, 2): n = 8, sum of o_cc = 3 + 1 + 2 = 6, D_o = 2/8;
        // n_c = (3, 2, 1, 2), D_e = (64 - 18) / 56; alpha = 1 - (1/4) / (46/56) = 16/23
        assertEquals(16.0 / 23.0, report.getKrippendorffAlpha(), 1e-12);
        // pairs within items 3 + 3 + 1, agreeing 3 + 1 + 1
        assertEquals(5.0 / 7.0, report.getPercentAgreement(), 1e-12);
        assertEquals(3, report.getItems());
        assertEquals(8, report.getJudgments());
        // alice and bob agree on t1, t2, t3 (kappa 1); with carol each shares t1 (0/0) and t2 (1/2):
        // p_o = 1/2, p_e = 1/4, kappa = 1/3
        assertEquals(List.of(pair("alice", "bob", 1.0, 3), pair("alice", "carol", 1.0 / 3, 2),
                pair("bob", "carol", 1.0 / 3, 2)), report.getPairwiseList());
        assertEquals(List.of(pair("alice", "bob", 1.0, 3)), store.agreement(3).getPairwiseList(),
                "pairs sharing fewer items than asked get no kappa");
        // t2: alice and bob face a tie among the others (left out); carol's tie loses to the others' "second better"
        assertEquals(List.of(majority("alice", 1.0, 2), majority("bob", 1.0, 2), majority("carol", 0.5, 2)),
                report.getAnnotatorsList());
    }

    @Test
    void agreementIsOneWhenEveryoneAgrees() {
        addTasks(store, 2);
        judge("alice", "t1", Choice.CHOICE_A, false);
        judge("bob", "t1", Choice.CHOICE_B, true);
        judge("alice", "t2", Choice.CHOICE_TIE, false);
        judge("bob", "t2", Choice.CHOICE_TIE, false);

        AgreementReport report = store.agreement(1);

        assertEquals(1.0, report.getKrippendorffAlpha(), 1e-12);
        assertEquals(1.0, report.getPercentAgreement(), 1e-12);
    }

    @Test
    void disagreementsAreTheTasksWhoseLabelsDifferOldestFirstWithoutRetractedOrSkipped() {
        judgeAgreementData();

        List<Disagreement> all = store.disagreements(10, false);

        assertEquals(List.of("t2"), all.stream().map(d -> d.getTask().getTaskId()).toList());
        assertEquals(List.of("t2/alice", "t2/bob", "t2/carol"), all.get(0).getJudgmentsList().stream()
                .map(j -> j.getSubmission().getJudgmentId()).toList());
        assertEquals("p", all.get(0).getPrompt().getPromptId());
        assertFalse(all.get(0).hasAdjudication());

        store.adjudicate(Adjudication.newBuilder().setTaskId("t2").setAdjudicator("root")
                .setChoice(Choice.CHOICE_B).build()).join();

        assertTrue(store.disagreements(10, false).get(0).hasAdjudication());
        assertEquals(List.of(), store.disagreements(10, true), "adjudicated tasks left out on request");
        assertEquals(List.of(), store.disagreements(0, false));
    }

    @Test
    void bothBadIsAcceptedCountsTowardsTheTaskAndIsNoSkipNorExported() throws Exception {
        addTasks(store, 1);
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_BOTH_BAD)).join();
        store.submitJudgment(judgment("j2", "t1", "bob", Choice.CHOICE_BOTH_BAD)).join();

        assertTrue(store.nextTask("carol").join().isEmpty(), "two both-bad answers close a task needing two");
        assertEquals(0, store.labelingOverview().getAnnotators(0).getSkips());
        StringWriter out = new StringWriter();
        assertEquals(0, new PreferenceJsonl(store).export(PreferenceFormat.TRL, out));
    }

    @Test
    void anAdjudicationIsRecordedStampedAndReplacedByALaterOne() {
        addTasks(store, 1);
        Adjudication first = store.adjudicate(Adjudication.newBuilder().setTaskId("t1").setAdjudicator("root")
                .setChoice(Choice.CHOICE_A).setNote("A is kinder").build()).join();
        clock.advance(Duration.ofMinutes(1));

        store.adjudicate(Adjudication.newBuilder().setTaskId("t1").setAdjudicator("root")
                .setChoice(Choice.CHOICE_TIE).setCandidateA(1).setCandidateB(0).build()).join();

        assertEquals(1, first.getCandidateB(), "the pair (0, 0) means (0, 1)");
        assertEquals(clock.instant().getEpochSecond() - 60, first.getAdjudicatedAt().getSeconds());
        Adjudication stored = store.adjudication("t1").orElseThrow();
        assertEquals(Choice.CHOICE_TIE, stored.getChoice());
        assertEquals(clock.instant().getEpochSecond(), stored.getAdjudicatedAt().getSeconds());
        assertEquals(RejectionReason.UNKNOWN_TASK, rejection(store.adjudicate(
                Adjudication.newBuilder().setTaskId("t9").setAdjudicator("root").setChoice(Choice.CHOICE_A).build()))
                .reason());
        assertEquals("choice", rejection(store.adjudicate(Adjudication.newBuilder().setTaskId("t1")
                .setAdjudicator("root").setChoice(Choice.CHOICE_SKIP).build())).field());
        assertEquals("candidate_b", rejection(store.adjudicate(Adjudication.newBuilder().setTaskId("t1")
                .setAdjudicator("root").setChoice(Choice.CHOICE_A).setCandidateB(2).build())).field());
        assertEquals("note", rejection(store.adjudicate(Adjudication.newBuilder().setTaskId("t1")
                .setAdjudicator("root").setChoice(Choice.CHOICE_A)
                .setNote("x".repeat(StoreFixture.RATIONALE_MAX_BYTES + 1)).build())).field());
    }

    @Test
    void queueStatusCountsJudgmentsSinceAndInAllAndTheTasksLeft() {
        addTasks(store, 3);
        Instant start = clock.instant();
        assertEquals("t1", store.nextTask("alice").join().orElseThrow().getTaskId());
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        clock.advance(Duration.ofSeconds(10));
        store.submitJudgment(judgment("j2", "t2", "alice", Choice.CHOICE_SKIP)).join();

        QueueStatus status = store.queueStatus("alice", start.plusSeconds(5));
        store.nextTask("alice").join();
        QueueStatus assigned = store.queueStatus("alice", Instant.EPOCH);

        assertEquals(1, status.getJudgedSince());
        assertEquals(2, status.getJudgedTotal());
        assertEquals(1, status.getTasksLeft(), "t3, never seen");
        assertEquals(Duration.ofMinutes(2).toMillis(), status.getUndoWindowMillis());
        assertEquals(1, assigned.getTasksLeft(), "t3, now assigned to alice");
        assertEquals(3, store.queueStatus("bob", Instant.EPOCH).getTasksLeft());
    }

    @Test
    void overviewListsEveryAnnotatorWithCountsPaceAndTheQueue() {
        addTasks(store, 4);
        store.addAnnotator("zed", true).join();
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();
        clock.advance(Duration.ofSeconds(10));
        store.submitJudgment(judgment("j2", "t2", "alice", Choice.CHOICE_B)).join();
        clock.advance(Duration.ofSeconds(30));
        store.submitJudgment(judgment("j3", "t3", "alice", Choice.CHOICE_SKIP)).join();
        assertEquals("t1", store.nextTask("bob").join().orElseThrow().getTaskId());
        store.adjudicate(Adjudication.newBuilder().setTaskId("t1").setAdjudicator("zed")
                .setChoice(Choice.CHOICE_A).build()).join();

        LabelingOverview now = store.labelingOverview();
        clock.advance(Duration.ofHours(2));
        LabelingOverview later = store.labelingOverview();

        Map<String, AnnotatorSummary> byName = new TreeMap<>();
        now.getAnnotatorsList().forEach(a -> byName.put(a.getName(), a));
        assertEquals(List.of("alice", "zed"), List.copyOf(byName.keySet()), "bob holds a lease but judged nothing");
        AnnotatorSummary alice = byName.get("alice");
        assertEquals(3, alice.getJudgments());
        assertEquals(1, alice.getSkips());
        assertEquals(3, alice.getJudgmentsLastHour());
        assertEquals(20.0, alice.getMedianSecondsBetween(), 1e-9, "gaps of 10 s and 30 s");
        assertEquals(clock.instant().minus(Duration.ofHours(2)).getEpochSecond(),
                alice.getLastJudgedAt().getSeconds());
        AnnotatorSummary zed = byName.get("zed");
        assertTrue(zed.getAdmin());
        assertEquals(0, zed.getJudgments());
        assertFalse(zed.hasLastJudgedAt());
        assertEquals(QueueState.newBuilder().setTasks(4).setOpenTasks(3).setActiveLeases(1).setJudgments(3)
                .setAdjudicatedTasks(1).build(), now.getQueue(), "t1 is closed by alice and bob's lease");
        assertEquals(0, later.getAnnotatorsList().stream().filter(a -> a.getName().equals("alice")).findFirst()
                .orElseThrow().getJudgmentsLastHour());
        assertEquals(0, later.getQueue().getActiveLeases(), "bob's lease of 30 minutes ran out");
    }

    private static PairwiseKappa pair(String a, String b, double kappa, int shared) {
        return PairwiseKappa.newBuilder().setAnnotatorA(a).setAnnotatorB(b).setKappa(kappa).setSharedItems(shared)
                .build();
    }

    private static AnnotatorAgreement majority(String annotator, double share, int items) {
        return AnnotatorAgreement.newBuilder().setAnnotator(annotator).setAgreementWithMajority(share)
                .setItems(items).build();
    }
}
