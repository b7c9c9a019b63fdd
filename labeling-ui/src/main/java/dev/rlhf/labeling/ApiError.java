package dev.rlhf.labeling;

import java.time.Duration;
import java.util.Optional;

/**
 * A request the UI answers with a 4xx (or a 503 while the store is away) and a JSON body
 * {@code {"error": message, "field": field}}.
 */
final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String field;
    private final Duration retryAfter;

    ApiError(int status, String message, String field, Duration retryAfter) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
        this.retryAfter = retryAfter;
    }

    ApiError(int status, String message, String field) {
        this(status, message, field, null);
    }

    ApiError(int status, String message) {
        this(status, message, null, null);
    }

    static ApiError badRequest(String message, String field) {
        return new ApiError(400, message, field);
    }

    /** The HTTP status. */
    int status() {
        return status;
    }

    /** The request field at fault, if one is. */
    Optional<String> field() {
        return Optional.ofNullable(field);
    }

    /** How long the client should wait before trying again, for 429 and 503. */
    Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
