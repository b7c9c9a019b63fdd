package dev.rlhf.serve;

import dev.rlhf.proto.v1.AnnotatorStats;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.NextTaskResponse;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import dev.rlhf.store.ChangeRejectedException;
import dev.rlhf.store.PreferenceFormat;
import dev.rlhf.store.PreferenceJsonl;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.StoreOverloadedException;
import dev.rlhf.store.StoreUnavailableException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PreferenceService over a {@link PreferenceStore}; answers come once the store's change is durable. A store that
 * is closed or has failed answers UNAVAILABLE, a store whose write queue is full RESOURCE_EXHAUSTED, any other
 * failure INTERNAL with a fixed message (the detail, which may name the store's directory, goes to the log); no
 * message names a server path. Every call is answered exactly once.
 */
final class PreferenceGrpcService extends PreferenceServiceGrpc.PreferenceServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(PreferenceGrpcService.class);

    private final PreferenceStore store;
    /** Export lines handed to gRPC, and times an export resumed after flow control held it: a test's window in. */
    private final LongAdder exportLinesSent = new LongAdder();
    private final LongAdder exportResumes = new LongAdder();

    PreferenceGrpcService(PreferenceStore store) {
        this.store = store;
    }

    /**
     * Hands the annotator their next task, with its prompt. With annotator tokens the annotator is the token's
     * owner; see {@link #actingAnnotator}.
     */
    @Override
    public void nextTask(NextTaskRequest request, StreamObserver<NextTaskResponse> observer) {
        String annotator;
        try {
            annotator = actingAnnotator(request.getAnnotatorId());
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        if (annotator.isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("annotator_id must not be empty")
                    .asRuntimeException());
            return;
        }
        answer(store.nextTask(annotator), this::response, observer);
    }

    /**
     * Records a judgment; the same submission again gets the same acknowledgement. With annotator tokens the
     * submission's annotator is the token's owner; see {@link #actingAnnotator}.
     */
    @Override
    public void submitJudgment(SubmitJudgmentRequest request, StreamObserver<SubmitJudgmentResponse> observer) {
        JudgmentSubmission submission = request.getSubmission();
        try {
            String annotator = actingAnnotator(submission.getAnnotatorId());
            if (!annotator.equals(submission.getAnnotatorId())) {
                submission = submission.toBuilder().setAnnotatorId(annotator).build();
            }
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        answer(store.submitJudgment(submission), ack -> SubmitJudgmentResponse.newBuilder()
                .setJudgmentId(ack.judgmentId())
                .setSequence(ack.sequence())
                .build(), observer);
    }

    /** Counts judgments per annotator. */
    @Override
    public void getAnnotatorStats(GetAnnotatorStatsRequest request, StreamObserver<AnnotatorStats> observer) {
        AnnotatorStats stats;
        try {
            stats = AnnotatorStats.newBuilder()
                    .putAllJudgmentsByAnnotator(store.judgmentCountsByAnnotator())
                    .setLastSequence(store.lastSequence())
                    .build();
        } catch (RuntimeException e) {
            observer.onError(status(e));
            return;
        }
        observer.onNext(stats);
        observer.onCompleted();
    }

    /**
     * Streams every A/B judgment as one JSONL line each, as fast as the client takes them: lines are read from the
     * store only while the call is ready for more (grpc-java's manual flow control), so a slow client never makes
     * the server hold more than gRPC's own buffers ahead of it.
     */
    @Override
    public void export(ExportRequest request, StreamObserver<ExportLine> observer) {
        PreferenceFormat format = switch (request.getFormat()) {
            case EXPORT_FORMAT_TRL -> PreferenceFormat.TRL;
            case EXPORT_FORMAT_HH_RLHF -> PreferenceFormat.HH_RLHF;
            default -> null;
        };
        if (format == null) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription(
                    "format must be EXPORT_FORMAT_TRL or EXPORT_FORMAT_HH_RLHF but was " + request.getFormat())
                    .asRuntimeException());
            return;
        }
        ServerCallStreamObserver<ExportLine> call = (ServerCallStreamObserver<ExportLine>) observer;
        Iterator<String> lines = new PreferenceJsonl(store).exportLines(format);
        call.setOnCancelHandler(() -> LOG.debug("export cancelled by the client"));
        call.setOnReadyHandler(new Runnable() {
            // gRPC runs this handler serially, first when the call starts and again whenever the call turns ready
            private boolean started;
            private boolean finished;

            @Override
            public void run() {
                if (finished || call.isCancelled()) {
                    return;
                }
                if (started) {
                    exportResumes.increment();
                }
                started = true;
                try {
                    while (call.isReady()) {
                        if (!lines.hasNext()) {
                            finished = true;
                            call.onCompleted();
                            return;
                        }
                        call.onNext(ExportLine.newBuilder().setLine(lines.next()).build());
                        exportLinesSent.increment();
                    }
                } catch (RuntimeException e) {
                    finished = true;
                    if (!call.isCancelled()) {
                        call.onError(status(e));
                    }
                }
            }
        });
    }

    /**
     * The annotator a request acts for. A call bearing an annotator's token acts for that annotator: an empty
     * {@code annotator_id} means them, another id answers PERMISSION_DENIED. Without an annotator's token (no
     * annotator tokens configured, or the server's token) the request's {@code annotator_id} is taken as it is.
     */
    private static String actingAnnotator(String claimed) {
        String owner = AnnotatorTokenInterceptor.ANNOTATOR.get();
        if (owner == null || claimed.equals(owner)) {
            return claimed;
        }
        if (claimed.isEmpty()) {
            return owner;
        }
        throw Status.PERMISSION_DENIED.withDescription("annotator_id " + claimed + " is not the owner of the "
                + "bearer token (" + owner + "); leave it empty or send " + owner).asRuntimeException();
    }

    long exportLinesSent() {
        return exportLinesSent.sum();
    }

    long exportResumes() {
        return exportResumes.sum();
    }

    private NextTaskResponse response(Optional<ComparisonTask> task) {
        NextTaskResponse.Builder response = NextTaskResponse.newBuilder();
        task.ifPresent(t -> {
            response.setTask(t);
            store.prompt(t.getPromptId()).ifPresent(response::setPrompt);
        });
        return response.build();
    }

    /**
     * Answers the call once {@code result} completes: with {@code build}'s response, or with the status of the
     * store's failure, or of {@code build}'s (so a failure while building still answers the call, once).
     */
    private static <T, R> void answer(CompletionStage<T> result, Function<T, R> build, StreamObserver<R> observer) {
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

    /**
     * A store rejection as the status the contract names, an unavailable or overloaded store as UNAVAILABLE or
     * RESOURCE_EXHAUSTED (their messages name no path); anything else is the server's fault, answered INTERNAL with
     * a fixed message and logged here with its detail.
     */
    private static StatusRuntimeException status(Throwable error) {
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
            case UNKNOWN_TASK, UNKNOWN_PROMPT, LEASE_EXPIRED -> Status.FAILED_PRECONDITION;
            case ANNOTATOR_ALREADY_JUDGED, ID_CONFLICT -> Status.ALREADY_EXISTS;
            case INVALID_ID, CHOICE_OUT_OF_RANGE, STRENGTH_OUT_OF_RANGE, CANDIDATE_OUT_OF_RANGE, RATIONALE_TOO_LONG,
                    INVALID_TASK -> Status.INVALID_ARGUMENT;
        };
        return status.withDescription(rejected.field() + ": " + rejected.getMessage()).asRuntimeException();
    }
}
