package dev.rlhf.store;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.JudgmentSubmission;
import java.nio.charset.StandardCharsets;

/** The checks on a judgment submission that need no stored data; they run on the caller's thread. */
final class SubmissionValidator {

    private final int strengthMax;
    private final int rationaleMaxBytes;

    SubmissionValidator(int strengthMax, int rationaleMaxBytes) {
        this.strengthMax = strengthMax;
        this.rationaleMaxBytes = rationaleMaxBytes;
    }

    /**
     * Returns the submission with its candidate pair made explicit (0, 0 becomes 0, 1).
     *
     * @throws ChangeRejectedException naming the first field that breaks a rule
     */
    JudgmentSubmission validate(JudgmentSubmission submission) {
        Keys.requireValidId(submission.getJudgmentId(), "judgment_id");
        Keys.requireValidId(submission.getTaskId(), "task_id");
        Keys.requireValidId(submission.getAnnotatorId(), "annotator_id");
        Choice choice = submission.getChoice();
        if (choice == Choice.CHOICE_UNSPECIFIED || choice == Choice.UNRECOGNIZED) {
            throw new ChangeRejectedException(RejectionReason.CHOICE_OUT_OF_RANGE, "choice",
                    "choice must be one of CHOICE_A, CHOICE_B, CHOICE_TIE, CHOICE_SKIP, CHOICE_BOTH_BAD but was "
                            + submission.getChoiceValue());
        }
        if (submission.hasStrength() && (submission.getStrength() < 1 || submission.getStrength() > strengthMax)) {
            throw new ChangeRejectedException(RejectionReason.STRENGTH_OUT_OF_RANGE, "strength",
                    "strength must be in 1.." + strengthMax + " but was " + submission.getStrength());
        }
        if (submission.hasRationale()) {
            int bytes = submission.getRationale().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > rationaleMaxBytes) {
                throw new ChangeRejectedException(RejectionReason.RATIONALE_TOO_LONG, "rationale",
                        "rationale must be at most " + rationaleMaxBytes + " UTF-8 bytes but was " + bytes);
            }
        }
        JudgmentSubmission normalized = submission.getCandidateA() == 0 && submission.getCandidateB() == 0
                ? submission.toBuilder().setCandidateB(1).build()
                : submission;
        if (normalized.getCandidateA() < 0) {
            throw candidateOutOfRange("candidate_a", "candidate_a must not be negative but was "
                    + normalized.getCandidateA());
        }
        if (normalized.getCandidateB() < 0 || normalized.getCandidateB() == normalized.getCandidateA()) {
            throw candidateOutOfRange("candidate_b", "candidate_b must be non-negative and differ from candidate_a ("
                    + normalized.getCandidateA() + ") but was " + normalized.getCandidateB());
        }
        return normalized;
    }

    static ChangeRejectedException candidateOutOfRange(String field, String message) {
        return new ChangeRejectedException(RejectionReason.CANDIDATE_OUT_OF_RANGE, field, message);
    }
}
