package dev.rlhf.labeling;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Turns a failed PreferenceService call into the HTTP answer the page gets. */
final class GrpcErrors {
    /** What a client is told to wait when the store is unavailable or busy. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(2);

    private GrpcErrors() {
    }

    /** The HTTP status answering a gRPC status code; never 500 (the store's faults answer 502 or 503). */
    static int httpStatus(Status.Code code) {
        return switch (code) {
            case INVALID_ARGUMENT, OUT_OF_RANGE -> 400;
            case UNAUTHENTICATED -> 401;
            case PERMISSION_DENIED -> 403;
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, FAILED_PRECONDITION, ABORTED -> 409;
            case RESOURCE_EXHAUSTED -> 429;
            case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED -> 503;
            default -> 502;
        };
    }

    /** The ApiError for a failure of a call (unwrapping CompletionException); null when it is no gRPC failure. */
    static ApiError fromThrowable(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof ApiError api) {
            return api;
        }
        if (cause instanceof StatusRuntimeException sre) {
            return fromStatus(sre.getStatus());
        }
        return null;
    }

    /** The ApiError for a gRPC status. */
    static ApiError fromStatus(Status status) {
        int http = httpStatus(status.getCode());
        String description = status.getDescription();
        String message = switch (status.getCode()) {
            case UNAUTHENTICATED -> "not signed in, or the token is unknown or revoked";
            case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED -> "the preference store is unavailable; try again";
            default -> description == null || description.isBlank()
                    ? status.getCode().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') : description;
        };
        Duration retry = http == 429 || http == 503 ? RETRY_AFTER : null;
        return new ApiError(http, message, null, retry);
    }

    static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
