package dev.rlhf.cluster;

import dev.rlhf.actors.PreferenceCollector;
import dev.rlhf.proto.v1.CollectRequest;
import dev.rlhf.proto.v1.CollectResponse;
import dev.rlhf.proto.v1.JudgedPage;
import dev.rlhf.proto.v1.PreferenceCollectorServiceGrpc;
import dev.rlhf.proto.v1.ReadJudgedRequest;
import dev.rlhf.proto.v1.ReadLastSequenceRequest;
import dev.rlhf.proto.v1.ReadLastSequenceResponse;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * PreferenceCollectorService in front of one {@link PreferenceCollector} actor per run, the same actor a
 * coordinator runs locally, each over its run's own store ({@link RunStores}). Each call is checked, then asked of
 * the run's collector, so a run's calls are served in arrival order, as the local collector serves them.
 */
final class PreferenceCollectorGrpcService extends PreferenceCollectorServiceGrpc.PreferenceCollectorServiceImplBase {
    /** Judged comparisons per page of a ReadJudged stream: a page stays far below the message size limit. */
    static final int PAGE = 1000;

    private final Function<String, ActorRef<PreferenceCollector.Command>> collectors;
    private final int page;
    private final Scheduler scheduler;
    private final Duration timeout;

    /**
     * @param collectors the collector of a run (opening its store the first time it is named)
     * @param page judged comparisons per page of a ReadJudged stream ({@link #PAGE})
     * @param timeout longest a call waits for a collector
     */
    PreferenceCollectorGrpcService(Function<String, ActorRef<PreferenceCollector.Command>> collectors, int page,
            Scheduler scheduler, Duration timeout) {
        this.collectors = collectors;
        this.page = page;
        this.scheduler = scheduler;
        this.timeout = timeout;
    }

    @Override
    public void collect(CollectRequest request, StreamObserver<CollectResponse> observer) {
        ActorRef<PreferenceCollector.Command> collector;
        List<Comparison> comparisons;
        PreferenceCollector.Labeling labeling;
        try {
            String run = CollectorMessages.run(request.getRun());
            comparisons = CollectorMessages.comparisons(request);
            labeling = CollectorMessages.labeling(request);
            collector = collectors.apply(run);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        AskPattern.<PreferenceCollector.Command, PreferenceCollector.Collected>askWithStatus(collector,
                        replyTo -> new PreferenceCollector.Collect(request.getBatchId(), comparisons,
                                request.getPolicyVersion(), labeling, replyTo), timeout, scheduler)
                .whenComplete((collected, failure) -> {
                    if (failure != null) {
                        observer.onError(internal(failure));
                        return;
                    }
                    observer.onNext(CollectResponse.newBuilder().setNewJudgments(collected.newJudgments())
                            .setLastSequence(collected.lastSequence()).build());
                    observer.onCompleted();
                });
    }

    @Override
    public void readJudged(ReadJudgedRequest request, StreamObserver<JudgedPage> observer) {
        ActorRef<PreferenceCollector.Command> collector;
        try {
            String run = CollectorMessages.run(request.getRun());
            CollectorMessages.range(request);
            collector = collectors.apply(run);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        AskPattern.<PreferenceCollector.Command, PreferenceCollector.Judged>askWithStatus(collector,
                        replyTo -> new PreferenceCollector.ReadJudged(request.getAfterSequence(),
                                request.getThroughSequence(), replyTo), timeout, scheduler)
                .whenComplete((judged, failure) -> {
                    if (failure != null) {
                        observer.onError(internal(failure));
                        return;
                    }
                    List<JudgedComparison> comparisons = judged.comparisons();
                    long last = request.getAfterSequence();
                    for (int start = 0; start < comparisons.size() || start == 0; start += page) {
                        JudgedPage.Builder next = JudgedPage.newBuilder();
                        for (JudgedComparison comparison
                                : comparisons.subList(start, Math.min(comparisons.size(), start + page))) {
                            next.addComparisons(CollectorMessages.judged(comparison));
                            last = comparison.sequence();
                        }
                        observer.onNext(next.setLastSequence(last).build());
                    }
                    observer.onCompleted();
                });
    }

    @Override
    public void readLastSequence(ReadLastSequenceRequest request,
            StreamObserver<ReadLastSequenceResponse> observer) {
        ActorRef<PreferenceCollector.Command> collector;
        try {
            collector = collectors.apply(CollectorMessages.run(request.getRun()));
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        AskPattern.<PreferenceCollector.Command, PreferenceCollector.LastSequence>askWithStatus(collector,
                        PreferenceCollector.ReadLastSequence::new, timeout, scheduler)
                .whenComplete((last, failure) -> {
                    if (failure != null) {
                        observer.onError(internal(failure));
                        return;
                    }
                    observer.onNext(ReadLastSequenceResponse.newBuilder().setSequence(last.sequence()).build());
                    observer.onCompleted();
                });
    }

    private static StatusRuntimeException internal(Throwable failure) {
        return Status.INTERNAL.withDescription(failure.getMessage()).withCause(failure).asRuntimeException();
    }
}
