package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.addTasks;
import static dev.rlhf.store.StoreFixture.judgment;
import static dev.rlhf.store.StoreFixture.rejection;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JudgmentSubmissionTest {

    private static final Instant NOW = Instant.parse("2026-01-02T03:04:05Z");

    @TempDir Path dir;
    private PreferenceStore store;

    @BeforeEach
    void openStore() {
        store = PreferenceStore.open(settings(dir), Clock.fixed(NOW, ZoneOffset.UTC));
        addTasks(store, 3);
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void acceptedJudgmentsGetIncreasingSequencesAndAreStoredWithEveryField() {
        JudgmentSubmission first = judgment("j1", "t1", "alice", Choice.CHOICE_A).toBuilder()
                .setStrength(3).setRationale("more vivid").build();

        JudgmentAck ack1 = store.submitJudgment(first).join();
        JudgmentAck ack2 = store.submitJudgment(judgment("j2", "t1", "bob", Choice.CHOICE_TIE)).join();

        assertEquals(new JudgmentAck("j1", 1), ack1);
        assertEquals(new JudgmentAck("j2", 2), ack2);
        Judgment stored = store.judgment("j1").orElseThrow();
        assertEquals(first.toBuilder().setCandidateB(1).build(), stored.getSubmission(),
                "the pair (0, 0) is stored as the explicit pair (0, 1)");
        assertEquals(1, stored.getSequence());
        assertEquals(NOW.getEpochSecond(), stored.getJudgedAt().getSeconds());
        assertEquals(2, store.lastSequence());
    }

    @Test
    void resubmittingTheSameJudgmentReturnsTheSameAckAndStoresNothingNew() {
        JudgmentSubmission submission = judgment("j1", "t1", "alice", Choice.CHOICE_B).toBuilder()
                .setStrength(2).build();

        JudgmentAck first = store.submitJudgment(submission).join();
        store.submitJudgment(judgment("j2", "t2", "alice", Choice.CHOICE_A)).join();
        JudgmentAck again = store.submitJudgment(submission).join();

        assertEquals(first, again);
        assertEquals(2, store.lastSequence());
        assertEquals(2, store.judgmentsSince(0, 10).size());
    }

    @Test
    void unknownTaskIsRejectedNamingTaskId() {
        assertRejected(judgment("j1", "no-such-task", "alice", Choice.CHOICE_A),
                RejectionReason.UNKNOWN_TASK, "task_id");
    }

    @Test
    void unspecifiedOrUnknownChoiceIsRejectedNamingChoice() {
        assertRejected(judgment("j1", "t1", "alice", Choice.CHOICE_UNSPECIFIED),
                RejectionReason.CHOICE_OUT_OF_RANGE, "choice");
        assertRejected(judgment("j1", "t1", "alice", Choice.CHOICE_A).toBuilder().setChoiceValue(9).build(),
                RejectionReason.CHOICE_OUT_OF_RANGE, "choice");
    }

    @Test
    void strengthOutsideTheLikertScaleIsRejectedNamingStrength() {
        JudgmentSubmission base = judgment("j1", "t1", "alice", Choice.CHOICE_A);
        assertRejected(base.toBuilder().setStrength(0).build(), RejectionReason.STRENGTH_OUT_OF_RANGE, "strength");
        assertRejected(base.toBuilder().setStrength(4).build(), RejectionReason.STRENGTH_OUT_OF_RANGE, "strength");
    }

    @Test
    void rationaleOverTheByteCapIsRejectedCountingUtf8Bytes() {
        // 22 characters of 3 UTF-8 bytes each: 66 bytes, over the cap of 64 although only 22 chars.
        String rationale = "雨".repeat(22);
        assertRejected(judgment("j1", "t1", "alice", Choice.CHOICE_A).toBuilder().setRationale(rationale).build(),
                RejectionReason.RATIONALE_TOO_LONG, "rationale");

        String atCap = "雨".repeat(21) + "a";
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A).toBuilder().setRationale(atCap).build())
                .join();
    }

    @Test
    void candidateIndexPastTheTaskOrEqualToTheOtherIsRejected() {
        JudgmentSubmission base = judgment("j1", "t1", "alice", Choice.CHOICE_A);
        assertRejected(base.toBuilder().setCandidateA(0).setCandidateB(2).build(),
                RejectionReason.CANDIDATE_OUT_OF_RANGE, "candidate_b");
        assertRejected(base.toBuilder().setCandidateA(1).setCandidateB(1).build(),
                RejectionReason.CANDIDATE_OUT_OF_RANGE, "candidate_b");
    }

    @Test
    void sameAnnotatorJudgingTheSameTaskUnderAnotherIdIsRejected() {
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();

        assertRejected(judgment("j2", "t1", "alice", Choice.CHOICE_A),
                RejectionReason.ANNOTATOR_ALREADY_JUDGED, "annotator_id");
        assertEquals(1, store.lastSequence());
    }

    @Test
    void reusingAJudgmentIdWithDifferentContentIsRejected() {
        store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A)).join();

        assertRejected(judgment("j1", "t1", "alice", Choice.CHOICE_B), RejectionReason.ID_CONFLICT, "judgment_id");
        assertRejected(judgment("j1", "t2", "alice", Choice.CHOICE_A), RejectionReason.ID_CONFLICT, "judgment_id");
        assertEquals(Choice.CHOICE_A, store.judgment("j1").orElseThrow().getSubmission().getChoice());
    }

    @Test
    void emptyOrNulIdsAreRejectedNamingTheField() {
        assertRejected(judgment("", "t1", "alice", Choice.CHOICE_A), RejectionReason.INVALID_ID, "judgment_id");
        assertRejected(judgment("j1", "t1", "al\0ice", Choice.CHOICE_A), RejectionReason.INVALID_ID, "annotator_id");
    }

    @Test
    void rejectedSubmissionInTheSameGroupAsAcceptedOnesLeavesThemIntact() {
        var good = store.submitJudgment(judgment("j1", "t1", "alice", Choice.CHOICE_A));
        var bad = store.submitJudgment(judgment("j2", "t1", "alice", Choice.CHOICE_B));
        var good2 = store.submitJudgment(judgment("j3", "t2", "alice", Choice.CHOICE_B));

        assertEquals(1, good.join().sequence());
        assertEquals(RejectionReason.ANNOTATOR_ALREADY_JUDGED, rejection(bad).reason());
        assertEquals(2, good2.join().sequence(), "a rejected change takes no sequence number");
        assertEquals(List.of(), store.integrityProblems());
    }

    private void assertRejected(JudgmentSubmission submission, RejectionReason reason, String field) {
        long before = store.lastSequence();
        ChangeRejectedException e = rejection(store.submitJudgment(submission));
        assertEquals(reason, e.reason(), e.getMessage());
        assertEquals(field, e.field(), e.getMessage());
        assertTrue(e.getMessage().contains(field), "message should name the field: " + e.getMessage());
        assertEquals(before, store.lastSequence(), "a rejected judgment must not advance the sequence");
        assertFalse(store.judgmentsSince(before, 10).stream()
                        .anyMatch(j -> j.getSubmission().getJudgmentId().equals(submission.getJudgmentId())
                                && !j.getSubmission().equals(submission)),
                "nothing of a rejected judgment may be stored");
        assertEquals(List.of(), store.integrityProblems());
    }
}
