package dev.rlhf.serve;

import dev.rlhf.proto.v1.AddAnnotatorRequest;
import dev.rlhf.proto.v1.AddAnnotatorResponse;
import dev.rlhf.proto.v1.AdjudicateRequest;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.AnnotatorStats;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.DisagreementList;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.GetAgreementRequest;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
import dev.rlhf.proto.v1.GetLabelingOverviewRequest;
import dev.rlhf.proto.v1.GetQueueStatusRequest;
import dev.rlhf.proto.v1.Identity;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.ListDisagreementsRequest;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.NextTaskResponse;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.QueueStatus;
import dev.rlhf.proto.v1.RetractJudgmentRequest;
import dev.rlhf.proto.v1.RetractJudgmentResponse;
import dev.rlhf.proto.v1.RevokeAnnotatorRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorResponse;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import dev.rlhf.proto.v1.WhoAmIRequest;
import dev.rlhf.store.PreferenceFormat;
import dev.rlhf.store.PreferenceJsonl;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.ProtoTime;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PreferenceService over a {@link PreferenceStore}; answers come once the store's change is durable. This class
 * answers the annotators' calls and hands the admin calls to {@link PreferenceAdminCalls}. The caller is the one
 * {@link AnnotatorTokenInterceptor} put in the context. A store that is closed or has failed answers UNAVAILABLE, a
 * store whose write queue is full RESOURCE_EXHAUSTED, any other failure INTERNAL with a fixed message (the detail,
 * which may name the store's directory, goes to the log); no message names a server path. Every call is answered
 * exactly once.
 */
final class PreferenceGrpcService extends PreferenceServiceGrpc.PreferenceServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(PreferenceGrpcService.class);

    private final PreferenceStore store;
    private final PreferenceAdminCalls admin;
    /** Export lines handed to gRPC, and times an export resumed after flow control held it: a test's window in. */
    private final LongAdder exportLinesSent = new LongAdder();
    private final LongAdder exportResumes = new LongAdder();

    PreferenceGrpcService(PreferenceStore store) {
        this.store = store;
        this.admin = new PreferenceAdminCalls(store);
    }

    /**
     * Hands the annotator their next task, with its prompt. With an annotator's token the annotator is the token's
     * owner; see {@link PreferenceCaller#actingAnnotator}.
     */
    @Override
    public void nextTask(NextTaskRequest request, StreamObserver<NextTaskResponse> observer) {
        String annotator;
        try {
            annotator = PreferenceCaller.actingAnnotator(request.getAnnotatorId());
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        if (annotator.isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("annotator_id must not be empty")
                    .asRuntimeException());
            return;
        }
        StoreCalls.answer(store.nextTask(annotator), this::response, observer);
    }

    /**
     * Records a judgment; the same submission again gets the same acknowledgement. With an annotator's token the
     * submission's annotator is the token's owner; see {@link PreferenceCaller#actingAnnotator}.
     */
    @Override
    public void submitJudgment(SubmitJudgmentRequest request, StreamObserver<SubmitJudgmentResponse> observer) {
        JudgmentSubmission submission = request.getSubmission();
        try {
            String annotator = PreferenceCaller.actingAnnotator(submission.getAnnotatorId());
            if (!annotator.equals(submission.getAnnotatorId())) {
                submission = submission.toBuilder().setAnnotatorId(annotator).build();
            }
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        StoreCalls.answer(store.submitJudgment(submission), ack -> SubmitJudgmentResponse.newBuilder()
                .setJudgmentId(ack.judgmentId())
                .setSequence(ack.sequence())
                .build(), observer);
    }

    /** Counts judgments per annotator. */
    @Override
    public void getAnnotatorStats(GetAnnotatorStatsRequest request, StreamObserver<AnnotatorStats> observer) {
        PreferenceCaller caller = PreferenceCaller.KEY.get();
        // an annotator sees their own count only; admins, the operator and unauthenticated tools see everyone's
        boolean ownOnly = caller != null && !caller.admin();
        StoreCalls.answerNow(() -> {
            Map<String, Long> counts = store.judgmentCountsByAnnotator();
            if (ownOnly) {
                counts = counts.containsKey(caller.annotatorId())
                        ? Map.of(caller.annotatorId(), counts.get(caller.annotatorId()))
                        : Map.of();
            }
            return AnnotatorStats.newBuilder()
                    .putAllJudgmentsByAnnotator(counts)
                    .setLastSequence(store.lastSequence())
                    .build();
        }, observer);
    }

    /**
     * Streams every A/B judgment as one JSONL line each, as fast as the client takes them: lines are read from the
     * store only while the call is ready for more (grpc-java's manual flow control), so a slow client never makes
     * the server hold more than gRPC's own buffers ahead of it.
     */
    @Override
    public void export(ExportRequest request, StreamObserver<ExportLine> observer) {
        if (PreferenceCaller.KEY.get() != null) {
            try {
                PreferenceCaller.requireAdmin(); // every annotator's judgments: not for an annotator's token
            } catch (StatusRuntimeException e) {
                observer.onError(e);
                return;
            }
        }
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
                        call.onError(StoreCalls.status(e));
                    }
                }
            }
        });
    }

    /** The caller's name and admin flag; UNAUTHENTICATED while authentication is off. */
    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<Identity> observer) {
        PreferenceCaller caller = PreferenceCaller.KEY.get();
        if (caller == null) {
            observer.onError(Status.UNAUTHENTICATED.withDescription(PreferenceCaller.NO_ANNOTATORS)
                    .asRuntimeException());
            return;
        }
        observer.onNext(Identity.newBuilder().setAnnotatorId(caller.annotatorId()).setAdmin(caller.admin()).build());
        observer.onCompleted();
    }

    /** Takes back one of the acting annotator's judgments within the store's undo window. */
    @Override
    public void retractJudgment(RetractJudgmentRequest request, StreamObserver<RetractJudgmentResponse> observer) {
        String annotator;
        try {
            annotator = requiredAnnotator(request.getAnnotatorId());
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        StoreCalls.answer(store.retractJudgment(request.getJudgmentId(), annotator), retraction ->
                RetractJudgmentResponse.newBuilder()
                        .setTaskId(store.judgment(retraction.getJudgmentId()).orElseThrow().getSubmission().getTaskId())
                        .build(), observer);
    }

    /** The acting annotator's progress. */
    @Override
    public void getQueueStatus(GetQueueStatusRequest request, StreamObserver<QueueStatus> observer) {
        StoreCalls.answerNow(() -> store.queueStatus(requiredAnnotator(request.getAnnotatorId()),
                ProtoTime.instant(request.getSince())), observer);
    }

    @Override
    public void addAnnotator(AddAnnotatorRequest request, StreamObserver<AddAnnotatorResponse> observer) {
        admin.addAnnotator(request, observer);
    }

    @Override
    public void revokeAnnotator(RevokeAnnotatorRequest request, StreamObserver<RevokeAnnotatorResponse> observer) {
        admin.revokeAnnotator(request, observer);
    }

    @Override
    public void getLabelingOverview(GetLabelingOverviewRequest request, StreamObserver<LabelingOverview> observer) {
        admin.getLabelingOverview(request, observer);
    }

    @Override
    public void getAgreement(GetAgreementRequest request, StreamObserver<AgreementReport> observer) {
        admin.getAgreement(request, observer);
    }

    @Override
    public void listDisagreements(ListDisagreementsRequest request, StreamObserver<DisagreementList> observer) {
        admin.listDisagreements(request, observer);
    }

    @Override
    public void adjudicate(AdjudicateRequest request, StreamObserver<Adjudication> observer) {
        admin.adjudicate(request, observer);
    }

    /**
     * The annotator the request acts for, which must not be empty.
     *
     * @throws StatusRuntimeException PERMISSION_DENIED for another annotator, INVALID_ARGUMENT naming annotator_id
     */
    private static String requiredAnnotator(String claimed) {
        String annotator = PreferenceCaller.actingAnnotator(claimed);
        if (annotator.isEmpty()) {
            throw Status.INVALID_ARGUMENT.withDescription("annotator_id must not be empty").asRuntimeException();
        }
        return annotator;
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
}
