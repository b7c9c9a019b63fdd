package dev.rlhf.policy.model;

/** A checkpoint cannot be read: a file or tensor is missing, or a shape or architecture is wrong. */
public final class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
