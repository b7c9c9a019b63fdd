package dev.rlhf.store;

import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import java.nio.charset.StandardCharsets;

/**
 * Records an admin's verdict on a stored task, stamped with the writer's clock; it replaces any earlier one of the
 * task. Judgments are never touched.
 */
final class RecordAdjudication implements StoreChange<Adjudication> {

    private final Adjudication adjudication;

    /**
     * Checks what needs no stored data and makes the candidate pair explicit (0, 0 becomes 0, 1).
     *
     * @throws ChangeRejectedException naming the first field that breaks a rule
     */
    RecordAdjudication(Adjudication adjudication, int noteMaxBytes) {
        Keys.requireValidId(adjudication.getTaskId(), "task_id");
        Keys.requireValidId(adjudication.getAdjudicator(), "adjudicator");
        Choice choice = adjudication.getChoice();
        if (choice == Choice.CHOICE_UNSPECIFIED || choice == Choice.CHOICE_SKIP || choice == Choice.UNRECOGNIZED) {
            throw new ChangeRejectedException(RejectionReason.CHOICE_OUT_OF_RANGE, "choice",
                    "choice must be one of CHOICE_A, CHOICE_B, CHOICE_TIE, CHOICE_BOTH_BAD but was "
                            + adjudication.getChoiceValue());
        }
        if (adjudication.hasNote()) {
            int bytes = adjudication.getNote().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > noteMaxBytes) {
                throw new ChangeRejectedException(RejectionReason.RATIONALE_TOO_LONG, "note",
                        "note must be at most " + noteMaxBytes + " UTF-8 bytes but was " + bytes);
            }
        }
        Adjudication normalized = adjudication.getCandidateA() == 0 && adjudication.getCandidateB() == 0
                ? adjudication.toBuilder().setCandidateB(1).build()
                : adjudication;
        if (normalized.getCandidateA() < 0) {
            throw SubmissionValidator.candidateOutOfRange("candidate_a",
                    "candidate_a must not be negative but was " + normalized.getCandidateA());
        }
        if (normalized.getCandidateB() < 0 || normalized.getCandidateB() == normalized.getCandidateA()) {
            throw SubmissionValidator.candidateOutOfRange("candidate_b", "candidate_b must be non-negative and "
                    + "differ from candidate_a (" + normalized.getCandidateA() + ") but was "
                    + normalized.getCandidateB());
        }
        this.adjudication = normalized.toBuilder().clearAdjudicatedAt().build();
    }

    @Override
    public Adjudication apply(ChangeScope scope) {
        String taskId = adjudication.getTaskId();
        ComparisonTask task = scope.get(Column.TASKS, Keys.id(taskId), ComparisonTask.parser())
                .orElseThrow(() -> new ChangeRejectedException(RejectionReason.UNKNOWN_TASK, "task_id",
                        "task " + taskId + " is not stored"));
        int highest = Math.max(adjudication.getCandidateA(), adjudication.getCandidateB());
        if (highest >= task.getCandidatesCount()) {
            String field = highest == adjudication.getCandidateA() ? "candidate_a" : "candidate_b";
            throw SubmissionValidator.candidateOutOfRange(field, field + " must be below the "
                    + task.getCandidatesCount() + " candidates of task " + taskId + " but was " + highest);
        }
        Adjudication stored = adjudication.toBuilder().setAdjudicatedAt(scope.now()).build();
        scope.put(Column.ADJUDICATIONS, Keys.id(taskId), stored);
        return stored;
    }
}
