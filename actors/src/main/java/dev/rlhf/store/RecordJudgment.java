package dev.rlhf.store;

import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.TaskProgress;
import java.util.Optional;

/**
 * Records a validated judgment with its sequence number, log entry and (task, annotator) index in
 * one change, and retires the annotator's assignment of the task if there was one. A resubmission with the same
 * content returns the first acknowledgement.
 *
 * <p>A judgment arriving after the annotator's lease on the task was reclaimed ({@link ExpiredAssignments}) is
 * accepted while the task still needs annotators (it then counts like any other) and rejected with {@link
 * RejectionReason#LEASE_EXPIRED} once the task has all it needs. A lease that ran out but was not yet reclaimed still
 * holds; a judgment from an annotator never assigned the task is accepted as before.
 */
final class RecordJudgment implements StoreChange<JudgmentAck> {

    private final JudgmentSubmission submission;

    /** @param submission already passed through {@link SubmissionValidator} */
    RecordJudgment(JudgmentSubmission submission) {
        this.submission = submission;
    }

    @Override
    public JudgmentAck apply(ChangeScope scope) {
        String judgmentId = submission.getJudgmentId();
        byte[] judgmentKey = Keys.id(judgmentId);
        Optional<Judgment> existing = scope.get(Column.JUDGMENTS, judgmentKey, Judgment.parser());
        if (existing.isPresent()) {
            if (scope.get(Column.RETRACTIONS, judgmentKey) != null) {
                throw new ChangeRejectedException(RejectionReason.ID_CONFLICT, "judgment_id",
                        "judgment " + judgmentId + " was taken back; send the new judgment under a new id");
            }
            if (!existing.get().getSubmission().equals(submission)) {
                throw new ChangeRejectedException(RejectionReason.ID_CONFLICT, "judgment_id",
                        "judgment " + judgmentId + " was already recorded with different content");
            }
            return new JudgmentAck(judgmentId, existing.get().getSequence());
        }
        String taskId = submission.getTaskId();
        ComparisonTask task = scope.get(Column.TASKS, Keys.id(taskId), ComparisonTask.parser())
                .orElseThrow(() -> new ChangeRejectedException(RejectionReason.UNKNOWN_TASK, "task_id",
                        "judgment " + judgmentId + " names task " + taskId + ", which is not stored"));
        requireCandidate(task, submission.getCandidateA(), "candidate_a");
        requireCandidate(task, submission.getCandidateB(), "candidate_b");
        byte[] taskAnnotatorKey = Keys.pair(taskId, submission.getAnnotatorId());
        byte[] earlier = scope.get(Column.TASK_JUDGMENTS, taskAnnotatorKey);
        if (earlier != null) {
            throw new ChangeRejectedException(RejectionReason.ANNOTATOR_ALREADY_JUDGED, "annotator_id",
                    "annotator " + submission.getAnnotatorId() + " already judged task " + taskId
                            + " as judgment " + Keys.printable(earlier));
        }

        TaskProgress progress = scope.get(Column.TASK_PROGRESS, Keys.id(taskId), TaskProgress.parser())
                .orElseThrow(() -> new IllegalStateException("task " + taskId + " has no progress record"));
        byte[] assignmentKey = Keys.pair(submission.getAnnotatorId(), taskId);
        Optional<Assignment> assignment = scope.get(Column.ASSIGNMENTS, assignmentKey, Assignment.parser());
        if (assignment.isPresent() && assignment.get().hasReclaimedAt() && !TaskProgressUpdate.isOpen(progress)) {
            throw new ChangeRejectedException(RejectionReason.LEASE_EXPIRED, "task_id", "the lease of annotator "
                    + submission.getAnnotatorId() + " on task " + taskId + " expired and the task was judged by "
                    + "others meanwhile; ask for the next task");
        }

        long sequence = scope.nextJudgmentSequence();
        Judgment judgment = Judgment.newBuilder()
                .setSubmission(submission)
                .setSequence(sequence)
                .setJudgedAt(scope.now())
                .build();
        scope.put(Column.JUDGMENTS, judgmentKey, judgment);
        scope.put(Column.JUDGMENT_LOG, Keys.number(sequence), judgmentKey);
        scope.put(Column.TASK_JUDGMENTS, taskAnnotatorKey, judgmentKey);
        scope.delete(Column.ASSIGNMENTS, assignmentKey);
        TaskProgressUpdate.record(scope, progress, submission.getAnnotatorId(),
                submission.getChoice() == Choice.CHOICE_SKIP);
        return new JudgmentAck(judgmentId, sequence);
    }

    private static void requireCandidate(ComparisonTask task, int index, String field) {
        if (index >= task.getCandidatesCount()) {
            throw SubmissionValidator.candidateOutOfRange(field, field + " must be below the "
                    + task.getCandidatesCount() + " candidates of task " + task.getTaskId() + " but was " + index);
        }
    }
}
