package dev.rlhf.store;

/** Why the store refused a change; each maps to one caller mistake, never to a store fault. */
public enum RejectionReason {
    /** An identifier is empty, too long or contains NUL. */
    INVALID_ID,
    /** The judgment names a task the store does not hold. */
    UNKNOWN_TASK,
    /** The task names a prompt the store does not hold. */
    UNKNOWN_PROMPT,
    /** The choice is unspecified or not a known value. */
    CHOICE_OUT_OF_RANGE,
    /** The strength lies outside the Likert scale. */
    STRENGTH_OUT_OF_RANGE,
    /** A candidate index is negative, equal to the other one, or past the task's candidates. */
    CANDIDATE_OUT_OF_RANGE,
    /** The rationale is longer than the configured cap in UTF-8 bytes. */
    RATIONALE_TOO_LONG,
    /** A task needs at least two candidates (and a non-negative annotations_needed). */
    INVALID_TASK,
    /** The annotator already judged this task under another judgment id. */
    ANNOTATOR_ALREADY_JUDGED,
    /** An id was reused with different content. */
    ID_CONFLICT,
    /** The annotator's lease on the task expired and was reclaimed, and the task no longer needs a judgment. */
    LEASE_EXPIRED,
    /** An annotator's name is already registered (revoked names included). */
    NAME_TAKEN,
    /** No annotator is registered under the name. */
    UNKNOWN_ANNOTATOR,
    /** No judgment of the annotator has the id (another annotator's judgment counts as none). */
    UNKNOWN_JUDGMENT,
    /** The judgment was already taken back. */
    ALREADY_RETRACTED,
    /** The judgment is older than the store's undo window. */
    UNDO_WINDOW_PASSED
}
