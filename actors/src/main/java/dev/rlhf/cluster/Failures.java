package dev.rlhf.cluster;

import java.util.concurrent.CompletionException;

/** What failed, under the wrapping of a composed future. */
final class Failures {
    private Failures() {}

    /** {@code failure} without the {@link CompletionException}s a composed future wraps it in. */
    static Throwable cause(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }
}
