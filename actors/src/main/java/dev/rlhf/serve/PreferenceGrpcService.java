package dev.rlhf.serve;

import dev.rlhf.proto.v1.AnnotatorStats;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
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
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.Writer;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.function.Consumer;

/**
 * PreferenceService over a {@link PreferenceStore}; answers come once the store's change is durable. A store that
 * is closed or has failed answers UNAVAILABLE, a store whose write queue is full RESOURCE_EXHAUSTED; neither
 * message names the store's directory.
 */
final class PreferenceGrpcService extends PreferenceServiceGrpc.PreferenceServiceImplBase {
    private final PreferenceStore store;

    PreferenceGrpcService(PreferenceStore store) {
        this.store = store;
    }

    /** Hands the annotator their next task, with its prompt. */
    @Override
    public void nextTask(NextTaskRequest request, StreamObserver<NextTaskResponse> observer) {
        if (request.getAnnotatorId().isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("annotator_id must not be empty")
                    .asRuntimeException());
            return;
        }
        store.nextTask(request.getAnnotatorId()).thenApply(this::response).whenComplete((response, error) -> {
            if (error != null) {
                observer.onError(status(error));
                return;
            }
            observer.onNext(response);
            observer.onCompleted();
        });
    }

    /** Records a judgment; the same submission again gets the same acknowledgement. */
    @Override
    public void submitJudgment(SubmitJudgmentRequest request, StreamObserver<SubmitJudgmentResponse> observer) {
        store.submitJudgment(request.getSubmission()).whenComplete((ack, error) -> {
            if (error != null) {
                observer.onError(status(error));
                return;
            }
            observer.onNext(SubmitJudgmentResponse.newBuilder()
                    .setJudgmentId(ack.judgmentId())
                    .setSequence(ack.sequence())
                    .build());
            observer.onCompleted();
        });
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
        } catch (StoreUnavailableException e) {
            observer.onError(status(e));
            return;
        }
        observer.onNext(stats);
        observer.onCompleted();
    }

    /** Streams every A/B judgment as one JSONL line each. */
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
        try (Writer lines = new LineWriter(line -> observer.onNext(ExportLine.newBuilder().setLine(line).build()))) {
            new PreferenceJsonl(store).export(format, lines);
        } catch (StoreUnavailableException e) {
            observer.onError(status(e));
            return;
        } catch (IOException | RuntimeException e) {
            observer.onError(Status.INTERNAL.withDescription("export failed: " + e.getMessage()).asRuntimeException());
            return;
        }
        observer.onCompleted();
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
     * A store rejection as the status the contract names, an unavailable or overloaded store as UNAVAILABLE or
     * RESOURCE_EXHAUSTED (their messages name no path); anything else is the server's fault.
     */
    private static StatusRuntimeException status(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        if (cause instanceof StoreUnavailableException unavailable) {
            return Status.UNAVAILABLE.withDescription(unavailable.getMessage()).asRuntimeException();
        }
        if (cause instanceof StoreOverloadedException overloaded) {
            return Status.RESOURCE_EXHAUSTED.withDescription(overloaded.getMessage()).asRuntimeException();
        }
        if (!(cause instanceof ChangeRejectedException rejected)) {
            return Status.INTERNAL.withDescription("preference store failed: " + cause.getMessage())
                    .asRuntimeException();
        }
        Status status = switch (rejected.reason()) {
            case UNKNOWN_TASK, UNKNOWN_PROMPT -> Status.FAILED_PRECONDITION;
            case ANNOTATOR_ALREADY_JUDGED, ID_CONFLICT -> Status.ALREADY_EXISTS;
            case INVALID_ID, CHOICE_OUT_OF_RANGE, STRENGTH_OUT_OF_RANGE, CANDIDATE_OUT_OF_RANGE, RATIONALE_TOO_LONG,
                    INVALID_TASK -> Status.INVALID_ARGUMENT;
        };
        return status.withDescription(rejected.field() + ": " + rejected.getMessage()).asRuntimeException();
    }

    /** Hands each complete line written to it (without its newline) to a consumer. */
    private static final class LineWriter extends Writer {
        private final Consumer<String> lines;
        private final StringBuilder pending = new StringBuilder();

        LineWriter(Consumer<String> lines) {
            this.lines = lines;
        }

        @Override
        public void write(char[] buffer, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                if (buffer[i] == '\n') {
                    lines.accept(pending.toString());
                    pending.setLength(0);
                } else {
                    pending.append(buffer[i]);
                }
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {
            if (!pending.isEmpty()) {
                lines.accept(pending.toString());
                pending.setLength(0);
            }
        }
    }
}
