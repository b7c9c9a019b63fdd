package dev.rlhf.store;

import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Retraction;
import dev.rlhf.proto.v1.TaskProgress;
import java.time.Duration;
import java.time.Instant;

/**
 * Takes back a judgment for its own annotator within the undo window of its {@code judged_at}, once. The judgment
 * stays in the log, marked by a {@link Retraction}; its (task, annotator) entry goes, so the annotator may judge the
 * task again; they get a fresh lease on it, marked retracted so that it is handed to them before their other
 * assignments, holding the annotation the judgment held (a retracted skip stops counting as a skip, which may close
 * the task until the lease is judged or reclaimed).
 */
final class RetractJudgment implements StoreChange<Retraction> {

    private final String judgmentId;
    private final String annotatorId;
    private final Duration undoWindow;

    RetractJudgment(String judgmentId, String annotatorId, Duration undoWindow) {
        Keys.requireValidId(judgmentId, "judgment_id");
        Keys.requireValidId(annotatorId, "annotator_id");
        this.judgmentId = judgmentId;
        this.annotatorId = annotatorId;
        this.undoWindow = undoWindow;
    }

    @Override
    public Retraction apply(ChangeScope scope) {
        byte[] judgmentKey = Keys.id(judgmentId);
        Judgment judgment = scope.get(Column.JUDGMENTS, judgmentKey, Judgment.parser())
                .filter(j -> j.getSubmission().getAnnotatorId().equals(annotatorId))
                .orElseThrow(() -> new ChangeRejectedException(RejectionReason.UNKNOWN_JUDGMENT, "judgment_id",
                        "annotator " + annotatorId + " has no judgment " + judgmentId));
        if (scope.get(Column.RETRACTIONS, judgmentKey) != null) {
            throw new ChangeRejectedException(RejectionReason.ALREADY_RETRACTED, "judgment_id",
                    "judgment " + judgmentId + " was already taken back");
        }
        JudgmentSubmission submission = judgment.getSubmission();
        Instant judgedAt = ProtoTime.instant(judgment.getJudgedAt());
        if (scope.instant().isAfter(judgedAt.plus(undoWindow))) {
            throw new ChangeRejectedException(RejectionReason.UNDO_WINDOW_PASSED, "judgment_id",
                    "judgment " + judgmentId + " is older than the undo window of " + undoWindow);
        }
        String taskId = submission.getTaskId();
        Retraction retraction = Retraction.newBuilder().setJudgmentId(judgmentId).setRetractedAt(scope.now()).build();
        scope.put(Column.RETRACTIONS, judgmentKey, retraction);
        scope.delete(Column.TASK_JUDGMENTS, Keys.pair(taskId, annotatorId));
        scope.put(Column.ASSIGNMENTS, Keys.pair(annotatorId, taskId), Assignment.newBuilder()
                .setTaskId(taskId)
                .setAnnotatorId(annotatorId)
                .setAssignedAt(scope.now())
                .setRetracted(true)
                .build());
        TaskProgress progress = scope.get(Column.TASK_PROGRESS, Keys.id(taskId), TaskProgress.parser())
                .orElseThrow(() -> new IllegalStateException("task " + taskId + " has no progress record"));
        TaskProgressUpdate.retract(scope, progress, annotatorId, submission.getChoice() == Choice.CHOICE_SKIP);
        return retraction;
    }
}
