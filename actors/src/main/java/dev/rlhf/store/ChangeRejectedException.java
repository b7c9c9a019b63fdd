package dev.rlhf.store;

/**
 * The store refused a change because of what the caller sent; nothing of the change was stored.
 * {@link #reason()} says which rule was broken and {@link #field()} which field broke it.
 */
public final class ChangeRejectedException extends RuntimeException {

    private final RejectionReason reason;
    private final String field;

    ChangeRejectedException(RejectionReason reason, String field, String message) {
        super(reason + " (" + field + "): " + message);
        this.reason = reason;
        this.field = field;
    }

    /** Which rule the change broke. */
    public RejectionReason reason() {
        return reason;
    }

    /** The name of the offending field, as spelled in {@code preferences.proto}. */
    public String field() {
        return field;
    }
}
