package dev.rlhf.serve;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.proto.v1.ListVersionsRequest;
import dev.rlhf.proto.v1.ListVersionsResponse;
import dev.rlhf.proto.v1.PairScore;
import dev.rlhf.proto.v1.PromptResponsePair;
import dev.rlhf.proto.v1.RewardModelVersion;
import dev.rlhf.proto.v1.RewardServiceGrpc;
import dev.rlhf.proto.v1.ScoreRequest;
import dev.rlhf.proto.v1.ScoreResponse;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardScorer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RewardService over {@link RewardModelVersions}. Calls are checked on the gRPC thread as far as that needs no
 * model (text sizes by {@link #fieldCaps()}, before a request reaches this class), then run one at a time on the
 * service's own scoring thread (never the policy's generation thread), which alone touches the reward models; a
 * full queue answers RESOURCE_EXHAUSTED.
 */
final class RewardGrpcService extends RewardServiceGrpc.RewardServiceImplBase implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RewardGrpcService.class);

    private final RewardModelVersions versions;
    private final RewardServeSettings settings;
    private final ThreadPoolExecutor scoring;

    RewardGrpcService(RewardModelVersions versions) {
        this.versions = versions;
        this.settings = versions.settings();
        this.scoring = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(settings.maxQueuedCalls()), r -> {
                    Thread thread = new Thread(r, "reward-scoring");
                    thread.setDaemon(true);
                    return thread;
                });
    }

    /** The caps checked on a request's bytes before it is parsed: the bytes of each pair's prompt and response. */
    FieldCaps fieldCaps() {
        FieldDescriptor prompt =
                PromptResponsePair.getDescriptor().findFieldByNumber(PromptResponsePair.PROMPT_FIELD_NUMBER);
        FieldDescriptor response =
                PromptResponsePair.getDescriptor().findFieldByNumber(PromptResponsePair.RESPONSE_FIELD_NUMBER);
        return new FieldCaps(Map.of(prompt, settings.maxTextBytes(), response, settings.maxTextBytes()), Map.of());
    }

    /** Scores the pairs with the requested version, or the newest. */
    @Override
    public void score(ScoreRequest request, StreamObserver<ScoreResponse> observer) {
        try {
            checkPairs(request);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        onScoringThread(observer, () -> scoreNow(request));
    }

    /** Lists the complete versions. */
    @Override
    public void listVersions(ListVersionsRequest request, StreamObserver<ListVersionsResponse> observer) {
        onScoringThread(observer, this::listNow);
    }

    private void checkPairs(ScoreRequest request) {
        int count = request.getPairsCount();
        if (count == 0) {
            throw GenerateRequestReader.invalid("pairs must hold at least one pair");
        }
        if (count > settings.maxPairs()) {
            throw GenerateRequestReader.invalid("pairs holds " + count + " pairs, more than the server's cap of "
                    + settings.maxPairs());
        }
        for (int i = 0; i < count; i++) {
            PromptResponsePair pair = request.getPairs(i);
            if (pair.getPrompt().isEmpty()) {
                throw GenerateRequestReader.invalid("pairs[" + i + "].prompt must not be empty");
            }
            if (pair.getResponse().isEmpty()) {
                throw GenerateRequestReader.invalid("pairs[" + i + "].response must not be empty");
            }
        }
    }

    private ScoreResponse scoreNow(ScoreRequest request) {
        SortedMap<Integer, Path> available = versions.available();
        int version = request.getVersion() != 0 ? request.getVersion() : newest(available);
        Path checkpoint = available.get(version);
        if (checkpoint == null) {
            throw Status.NOT_FOUND.withDescription("version " + version + " is not among the reward-model versions "
                    + available.keySet() + " of " + versions.dir()).asRuntimeException();
        }
        RewardModelCheckpoint.Loaded model = versions.load(version, checkpoint);
        RewardScorer scorer = model.scorer(settings.batchSize());
        List<int[]> sequences = new ArrayList<>(request.getPairsCount());
        for (int i = 0; i < request.getPairsCount(); i++) {
            PromptResponsePair pair = request.getPairs(i);
            try {
                sequences.add(scorer.encode(new PromptResponse(pair.getPrompt(), pair.getResponse())));
            } catch (IllegalArgumentException e) {
                throw GenerateRequestReader.invalid("pairs[" + i + "] is longer (prompt + response) than the "
                        + model.model().config().contextLength() + "-token context of reward-model version "
                        + version);
            }
        }
        float[] raw = scorer.rawScoresOfSequences(sequences);
        ScoreResponse.Builder response = ScoreResponse.newBuilder().setVersion(version);
        for (float score : raw) {
            response.addScores(PairScore.newBuilder()
                    .setRaw(score)
                    .setNormalized(scorer.normalizer().normalize(score)));
        }
        return response.build();
    }

    private ListVersionsResponse listNow() {
        SortedMap<Integer, Path> available = versions.available();
        ListVersionsResponse.Builder response = ListVersionsResponse.newBuilder()
                .setMaxPairs(settings.maxPairs())
                .setMaxTextBytes(settings.maxTextBytes());
        for (Map.Entry<Integer, Path> entry : available.entrySet()) {
            RewardModelInfo info = RewardModelInfo.read(entry.getValue());
            response.addVersions(RewardModelVersion.newBuilder()
                    .setVersion(entry.getKey())
                    .setCheckpointDir(entry.getValue().toAbsolutePath().normalize().toString())
                    .setTrainedThroughSequence(info.trainedThroughSequence())
                    .setNormalizerMean(info.normalizer().mean())
                    .setNormalizerStd(info.normalizer().std())
                    .setContextLength(GptConfig.read(entry.getValue()).contextLength())
                    .putAllMetrics(info.metrics()));
        }
        if (!available.isEmpty()) {
            response.setLatest(available.lastKey());
        }
        return response.build();
    }

    private int newest(SortedMap<Integer, Path> available) {
        if (available.isEmpty()) {
            throw Status.UNAVAILABLE.withDescription("no reward-model version in " + versions.dir()
                    + " is complete yet").asRuntimeException();
        }
        return available.lastKey();
    }

    /** Answers the call with {@code work} run on the scoring thread, unless the call is cancelled by then. */
    private <R> void onScoringThread(StreamObserver<R> observer, Supplier<R> work) {
        ServerCallStreamObserver<R> call = (ServerCallStreamObserver<R>) observer;
        try {
            scoring.execute(() -> {
                if (call.isCancelled()) {
                    return;
                }
                try {
                    R response = work.get();
                    observer.onNext(response);
                    observer.onCompleted();
                } catch (StatusRuntimeException e) {
                    observer.onError(e);
                } catch (RuntimeException e) {
                    LOG.error("reward scoring failed", e);
                    observer.onError(Status.INTERNAL.withDescription("scoring failed: " + e.getMessage())
                            .asRuntimeException());
                }
            });
        } catch (RejectedExecutionException e) {
            observer.onError(Status.RESOURCE_EXHAUSTED.withDescription("the scoring queue is full: "
                    + settings.maxQueuedCalls() + " calls wait already").asRuntimeException());
        }
    }

    /** Lets queued calls finish, then stops the scoring thread; the versions stay the caller's to close. */
    @Override
    public void close() {
        scoring.shutdown();
        try {
            if (!scoring.awaitTermination(30, TimeUnit.SECONDS)) {
                scoring.shutdownNow();
            }
        } catch (InterruptedException e) {
            scoring.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
