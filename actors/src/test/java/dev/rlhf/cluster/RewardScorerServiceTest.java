package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.rlhf.actors.RewardScorerActor;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.HeldWeightsRequest;
import dev.rlhf.proto.v1.RewardModelShape;
import dev.rlhf.proto.v1.RewardScorerServiceGrpc;
import dev.rlhf.proto.v1.ScoreChunkRequest;
import dev.rlhf.proto.v1.ScoreChunkResponse;
import dev.rlhf.proto.v1.ScoredPair;
import dev.rlhf.proto.v1.UseRewardVersionRequest;
import dev.rlhf.proto.v1.WeightSyncStatus;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardNormalizer;
import dev.rlhf.rewardmodel.RewardScorer;
import dev.rlhf.rewardmodel.SequenceEncoder;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * RewardScorerService in front of a real reward scorer actor: a version synced and put in use scores exactly what
 * the same reward model scores in this JVM, every bad field answers INVALID_ARGUMENT naming it, and a version the
 * node does not hold or use answers FAILED_PRECONDITION.
 */
class RewardScorerServiceTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static final int CHUNK_BYTES = 4096;
    private static final List<PromptResponse> PAIRS = List.of(
            new PromptResponse("The room", " was nice."),
            new PromptResponse("The staff", " was rude. The room was nice."),
            new PromptResponse("", "The staff was nice."));
    @TempDir static Path dir;
    private static NDManager manager;
    private static TextTokenizer tokenizer;
    private static RewardModel model;
    private static RewardScorer local;

    private Server server;
    private ManagedChannel channel;
    private RewardScorerGrpcService service;
    private RewardScorerServiceGrpc.RewardScorerServiceBlockingStub stub;
    private RewardScorerServiceGrpc.RewardScorerServiceStub asyncStub;

    @BeforeAll
    static void buildRewardModel() throws Exception {
        manager = NDManager.newBaseManager();
        tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300)
                .train(List.of("The room was nice.", "The staff was rude.")).writeTokenizerJson(dir));
        model = RewardModel.random(GptConfig.of(tokenizer.vocabSize(), 32, 16, 1, 2, -1), manager, 5);
        // a random head: the zero head RewardModel.random starts from would score every pair alike
        WeightsSnapshot weights = WeightsSnapshot.of(model.weights(), 0);
        Map<String, float[]> tensors = new LinkedHashMap<>(weights.tensors());
        tensors.put(RewardModel.SCORE_WEIGHT, sine(tensors.get(RewardModel.SCORE_WEIGHT).length));
        new WeightsSnapshot(0, tensors).loadInto(model.weights());
        local = new RewardScorer(model, new SequenceEncoder(tokenizer, 24), new RewardNormalizer(0.25, 1.5, 40), 2);
    }

    @AfterAll
    static void closeRewardModel() {
        TESTKIT.shutdownTestKit();
        model.close();
        tokenizer.close();
        manager.close();
    }

    @BeforeEach
    void startService() throws Exception {
        ActorRef<RewardScorerActor.Command> scorer = TESTKIT.spawn(RewardScorerActor.create());
        service = new RewardScorerGrpcService(scorer, tokenizer, manager, 1 << 20, 16 * 1024, TESTKIT.scheduler(),
                Duration.ofSeconds(30));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = RewardScorerServiceGrpc.newBlockingStub(channel);
        asyncStub = RewardScorerServiceGrpc.newStub(channel);
    }

    @AfterEach
    void stopService() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        service.close();
    }

    @Test
    void aSyncedVersionScoresWhatTheSameRewardModelScoresHereBitForBit() {
        VersionChunks chunks = sync(snapshot(3));
        stub.useVersion(RewardRequestReader.useVersion(3, chunks.sha256(), local));

        ScoreChunkResponse response = stub.scoreChunk(RewardRequestReader.scoreChunk(7, 3, PAIRS));

        double[] expected = local.scores(PAIRS);
        assertEquals(7, response.getChunk());
        assertEquals(3, response.getRewardModelVersion());
        assertEquals(PAIRS.size(), response.getScoresCount());
        for (int i = 0; i < PAIRS.size(); i++) {
            assertEquals(Float.floatToRawIntBits((float) expected[i]),
                    Float.floatToRawIntBits(response.getScores(i)), "score of pair " + i);
        }
        assertTrue(expected[0] != expected[1], "the pairs score apart: " + expected[0] + ", " + expected[1]);
        WeightSyncStatus held = stub.heldWeights(HeldWeightsRequest.getDefaultInstance());
        assertEquals(3, held.getVersion());
        assertEquals(chunks.sha256(), held.getSha256());
    }

    @Test
    void aNewerVersionReplacesTheOldOneAtUseVersion() {
        VersionChunks first = sync(snapshot(1));
        stub.useVersion(RewardRequestReader.useVersion(1, first.sha256(), local));
        VersionChunks second = sync(snapshot(2));

        float before = stub.scoreChunk(RewardRequestReader.scoreChunk(0, 1, PAIRS)).getScores(0);
        stub.useVersion(RewardRequestReader.useVersion(2, second.sha256(), local));
        StatusRuntimeException old = assertThrows(StatusRuntimeException.class,
                () -> stub.scoreChunk(RewardRequestReader.scoreChunk(1, 1, PAIRS)));
        float after = stub.scoreChunk(RewardRequestReader.scoreChunk(2, 2, PAIRS)).getScores(0);

        assertEquals((float) local.scores(PAIRS)[0], before, "version 1 scored until the switch");
        assertEquals(before, after, "the same weights as version 2 score the same");
        assertEquals(Status.Code.FAILED_PRECONDITION, old.getStatus().getCode());
        assertTrue(old.getStatus().getDescription().startsWith("reward_model_version"), old.getStatus().toString());
    }

    @Test
    void badUseVersionFieldsAnswerInvalidArgumentNamingTheField() {
        VersionChunks chunks = sync(snapshot(1));
        UseRewardVersionRequest valid = RewardRequestReader.useVersion(1, chunks.sha256(), local);

        assertInvalid("version", () -> stub.useVersion(valid.toBuilder().setVersion(-1).build()));
        assertInvalid("sha256", () -> stub.useVersion(valid.toBuilder().setSha256(ByteString.EMPTY).build()));
        assertInvalid("shape", () -> stub.useVersion(valid.toBuilder().clearShape().build()));
        assertInvalid("shape.vocab_size", () -> stub.useVersion(edit(valid, s -> s.setVocabSize(7))));
        assertInvalid("shape", () -> stub.useVersion(edit(valid, s -> s.setHeads(3))));
        assertInvalid("shape", () -> stub.useVersion(edit(valid, s -> s.setLayerNormEpsilon(0))));
        assertInvalid("shape does not fit the synced weights", () -> stub.useVersion(edit(valid, s -> s.setLayers(2))));
        assertInvalid("context_length", () -> stub.useVersion(valid.toBuilder().setContextLength(1).build()));
        assertInvalid("context_length", () -> stub.useVersion(valid.toBuilder().setContextLength(33).build()));
        assertInvalid("batch_size", () -> stub.useVersion(valid.toBuilder().setBatchSize(0).build()));
        assertInvalid("normalizer_std", () -> stub.useVersion(valid.toBuilder().setNormalizerStd(0).build()));
        assertInvalid("normalizer_mean", () -> stub.useVersion(valid.toBuilder()
                .setNormalizerMean(Double.NaN).build()));

        assertEquals(1, stub.useVersion(valid).getVersion(), "the valid request still works");
    }

    @Test
    void syncedWeightsWithoutTheScoreHeadAnswerInvalidArgumentNamingTheTensor() {
        Map<String, float[]> headless = new LinkedHashMap<>(snapshot(1).tensors());
        headless.remove(RewardModel.SCORE_WEIGHT);
        VersionChunks chunks = sync(new WeightsSnapshot(1, headless));

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.useVersion(RewardRequestReader.useVersion(1, chunks.sha256(), local)));

        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
        assertTrue(e.getStatus().getDescription().contains(RewardModel.SCORE_WEIGHT), e.getStatus().toString());
    }

    @Test
    void badScoreChunkFieldsAnswerInvalidArgumentNamingTheField() {
        VersionChunks chunks = sync(snapshot(1));
        stub.useVersion(RewardRequestReader.useVersion(1, chunks.sha256(), local));
        ScoreChunkRequest valid = RewardRequestReader.scoreChunk(0, 1, PAIRS);

        assertInvalid("chunk", () -> stub.scoreChunk(valid.toBuilder().setChunk(-1).build()));
        assertInvalid("pairs", () -> stub.scoreChunk(valid.toBuilder().clearPairs().build()));
        assertInvalid("pairs[1]", () -> stub.scoreChunk(valid.toBuilder()
                .setPairs(1, ScoredPair.getDefaultInstance()).build()));

        assertEquals(3, stub.scoreChunk(valid).getScoresCount(), "the valid request still works");
    }

    @Test
    void aVersionTheNodeDoesNotHoldOrUseAnswersFailedPrecondition() {
        VersionChunks chunks = sync(snapshot(2));
        UseRewardVersionRequest use = RewardRequestReader.useVersion(2, chunks.sha256(), local);

        StatusRuntimeException notScoring = assertThrows(StatusRuntimeException.class,
                () -> stub.scoreChunk(RewardRequestReader.scoreChunk(0, 2, PAIRS)));
        StatusRuntimeException otherVersion = assertThrows(StatusRuntimeException.class,
                () -> stub.useVersion(use.toBuilder().setVersion(3).build()));
        StatusRuntimeException otherBytes = assertThrows(StatusRuntimeException.class,
                () -> stub.useVersion(use.toBuilder().setSha256(VersionChunks.sha256(ByteString.copyFromUtf8("x")))
                        .build()));

        for (StatusRuntimeException e : List.of(notScoring, otherVersion, otherBytes)) {
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.getStatus().toString());
        }
        assertEquals(2, stub.useVersion(use).getVersion(), "the synced version is still there to use");
    }

    private static UseRewardVersionRequest edit(UseRewardVersionRequest request,
            UnaryOperator<RewardModelShape.Builder> change) {
        return request.toBuilder().setShape(change.apply(request.getShape().toBuilder())).build();
    }

    private VersionChunks sync(WeightsSnapshot snapshot) {
        VersionChunks chunks = VersionChunks.of(snapshot.version(), SnapshotSafetensors.encode(snapshot), CHUNK_BYTES);
        try {
            WeightsSender.sync(asyncStub::syncWeights, chunks, 1, "test node").get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | InterruptedException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
        return chunks;
    }

    private static WeightsSnapshot snapshot(int version) {
        return WeightsSnapshot.of(model.weights(), version);
    }

    private static float[] sine(int length) {
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = (float) Math.sin(i + 1);
        }
        return values;
    }

    private static void assertInvalid(String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field), "description names " + field + ": "
                + e.getStatus().getDescription());
    }
}
