package dev.rlhf.serve;

import dev.rlhf.store.ChangeRejectedException;
import dev.rlhf.store.StoreOverloadedException;
import dev.rlhf.store.StoreUnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How PreferenceService answers from the store: each call exactly once, store failures as the statuses the contract
 * names, no message naming a server path.
 */
final class StoreCalls {
    private static final Logger LOG = LoggerFactory.getLogger(StoreCalls.class);

    private StoreCalls() {}

    /**
     * Answers the call once {@code result} completes: with {@code build}'s response, or with the status of the
     * store's failure, or of {@code build}'s (so a failure while building still answers the call, once).
     */
    static <T, R> void answer(CompletionStage<T> result, Function<T, R> build, StreamObserver<R> observer) {
        result.whenComplete((value, error) -> {
            R response;
            try {
                if (error != null) {
                    observer.onError(status(error));
                    return;
                }
                response = build.apply(value);
            } catch (RuntimeException e) {
                observer.onError(status(e));
                return;
            }
            observer.onNext(response);
            observer.onCompleted();
        });
    }

    /** Answers the call with what {@code read} returns, or with the status of what it throws. */
    static <R> void answerNow(Supplier<R> read, StreamObserver<R> observer) {
        R response;
        try {
            response = read.get();
        } catch (RuntimeException e) {
            observer.onError(status(e));
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }

    /**
     * A store rejection as the status the contract names, an unavailable or overloaded store as UNAVAILABLE or
     * RESOURCE_EXHAUSTED (their messages name no path), a status already chosen as itself; anything else is the
     * server's fault, answered INTERNAL with a fixed message and logged here with its detail.
     */
    static StatusRuntimeException status(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof StoreUnavailableException unavailable) {
            return Status.UNAVAILABLE.withDescription(unavailable.getMessage()).asRuntimeException();
        }
        if (cause instanceof StoreOverloadedException overloaded) {
            return Status.RESOURCE_EXHAUSTED.withDescription(overloaded.getMessage()).asRuntimeException();
        }
        if (cause instanceof StatusRuntimeException answered) {
            return answered;
        }
        if (!(cause instanceof ChangeRejectedException rejected)) {
            LOG.error("PreferenceService call failed", cause);
            return Status.INTERNAL.withDescription("the preference store failed; see the server's log")
                    .asRuntimeException();
        }
        Status status = switch (rejected.reason()) {
            case UNKNOWN_TASK, UNKNOWN_PROMPT, LEASE_EXPIRED, ALREADY_RETRACTED, UNDO_WINDOW_PASSED ->
                    Status.FAILED_PRECONDITION;
            case ANNOTATOR_ALREADY_JUDGED, ID_CONFLICT, NAME_TAKEN -> Status.ALREADY_EXISTS;
            case UNKNOWN_ANNOTATOR, UNKNOWN_JUDGMENT -> Status.NOT_FOUND;
            case INVALID_ID, CHOICE_OUT_OF_RANGE, STRENGTH_OUT_OF_RANGE, CANDIDATE_OUT_OF_RANGE, RATIONALE_TOO_LONG,
                    INVALID_TASK -> Status.INVALID_ARGUMENT;
        };
        return status.withDescription(rejected.field() + ": " + rejected.getMessage()).asRuntimeException();
    }
}
