package dev.rlhf.store;

import java.nio.file.Path;

/**
 * The store takes no changes: it is closed, or its writer failed (then {@link #getCause()} is what it failed with,
 * and the store stays failed until it is reopened). The change was not acknowledged: a change refused at
 * submission was not stored; one the writer was writing when it failed may or may not have been, so resend it
 * after reopening (a judgment resent under its id gets the same acknowledgement). The message says which and why,
 * with the store's directory cut out, so it may be shown to remote callers.
 *
 * <p>An {@link IllegalStateException}, as it always was for a closed store.
 */
public final class StoreUnavailableException extends IllegalStateException {

    private StoreUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    static StoreUnavailableException closed() {
        return new StoreUnavailableException("preference store is closed", null);
    }

    /** The store at {@code path} failed with {@code cause}; {@code path} is cut out of the cause's message. */
    static StoreUnavailableException failed(Throwable cause, Path path) {
        String why = cause.getMessage() == null ? cause.getClass().getName()
                : cause.getClass().getName() + ": " + cause.getMessage()
                        .replace(path.toAbsolutePath().toString(), "<store>")
                        .replace(path.toString(), "<store>");
        return new StoreUnavailableException("preference store failed and takes no more changes until it is "
                + "reopened: " + why, cause);
    }
}
