package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.proto.v1.ListVersionsRequest;
import dev.rlhf.proto.v1.ListVersionsResponse;
import dev.rlhf.proto.v1.PromptResponsePair;
import dev.rlhf.proto.v1.RewardModelVersion;
import dev.rlhf.proto.v1.RewardServiceGrpc;
import dev.rlhf.proto.v1.ScoreRequest;
import dev.rlhf.proto.v1.ScoreResponse;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardScorer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** RewardService over real reward-model checkpoints on a loopback socket. */
class RewardServiceTest {
    private static final int MAX_PAIRS = 8;
    private static final int BATCH = 4;
    /** Big enough for every text of these tests but the ones written to pass or break it. */
    private static final int MAX_TEXT_BYTES = 1 << 16;
    private static final List<PromptResponse> PAIRS = List.of(
            new PromptResponse("Review of the cafe:", " The staff was friendly."),
            new PromptResponse("Review of the cafe:", " slow service, cold food."),
            new PromptResponse("The coffee", " was great."),
            new PromptResponse("Naïve café owners", " serve crème brûlée for 5 €."),
            new PromptResponse("日本語の", "テキスト"));

    @TempDir static Path dir;
    private static NDManager manager;
    private static ServedModel model;
    private static Path versions;
    private RunningServer running;
    private RewardModelVersions rewards;

    @BeforeAll
    static void buildModels() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir.resolve("policy"));
        versions = dir.resolve("reward-models");
        writeVersion(versions, 1);
        writeVersion(versions, 2);
    }

    @AfterAll
    static void closeModels() {
        model.close();
        manager.close();
    }

    @AfterEach
    void stopServer() {
        if (running != null) {
            running.close();
            rewards.close();
        }
    }

    private static Path writeVersion(Path root, int version) throws Exception {
        return TinyRewardModels.write(manager, dir.resolve("policy"), model.model().config().vocabSize(), root,
                version);
    }

    private RewardServiceGrpc.RewardServiceBlockingStub serve(Path rewardModel, int maxLoaded, ServeSettings settings)
            throws Exception {
        return serve(new RewardServeSettings(Optional.of(rewardModel), MAX_PAIRS, MAX_TEXT_BYTES, BATCH, 16,
                maxLoaded), settings);
    }

    private RewardServiceGrpc.RewardServiceBlockingStub serve(RewardServeSettings rewardSettings,
            ServeSettings settings) throws Exception {
        rewards = RewardModelVersions.open(rewardSettings, manager);
        running = RunningServer.start(model, settings, Optional.empty(), Optional.of(rewards));
        return RewardServiceGrpc.newBlockingStub(running.channel);
    }

    private RewardServiceGrpc.RewardServiceBlockingStub serve(Path rewardModel) throws Exception {
        return serve(rewardModel, 2, RunningServer.SETTINGS);
    }

    private static ScoreRequest request(int version, List<PromptResponse> pairs) {
        ScoreRequest.Builder request = ScoreRequest.newBuilder().setVersion(version);
        pairs.forEach(p -> request.addPairs(PromptResponsePair.newBuilder()
                .setPrompt(p.prompt()).setResponse(p.response())));
        return request.build();
    }

    @Test
    void scoresAgreeWithRewardScorerOnTheSameCheckpoint() throws Exception {
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(versions);

        ScoreResponse first = stub.score(request(1, PAIRS));
        ScoreResponse newest = stub.score(request(0, PAIRS));

        assertEquals(1, first.getVersion());
        assertEquals(2, newest.getVersion(), "version 0 scores with the newest version");
        assertAgreesWithScorer(RewardModelCheckpoint.versionDirectory(versions, 1), first);
        assertAgreesWithScorer(RewardModelCheckpoint.versionDirectory(versions, 2), newest);
        assertNotEquals(first.getScores(0).getRaw(), newest.getScores(0).getRaw(), "the versions differ");
    }

    private static void assertAgreesWithScorer(Path checkpoint, ScoreResponse response) {
        try (NDManager local = NDManager.newBaseManager();
                RewardModelCheckpoint.Loaded loaded = RewardModelCheckpoint.load(checkpoint, local)) {
            RewardScorer scorer = loaded.scorer(BATCH);
            float[] raw = scorer.rawScores(PAIRS);
            double[] normalized = scorer.scores(PAIRS);
            assertEquals(PAIRS.size(), response.getScoresCount());
            for (int i = 0; i < PAIRS.size(); i++) {
                assertEquals(raw[i], response.getScores(i).getRaw(), 1e-5, "raw score of pair " + i);
                assertEquals(normalized[i], response.getScores(i).getNormalized(), 1e-5, "normalised score " + i);
            }
            assertNotEquals(raw[0], raw[1], "pairs score differently, so the comparison can fail");
        }
    }

    @Test
    void aVersionCountsOnceCompleteAndTheNewestIsUsedByDefault() throws Exception {
        Path root = dir.resolve("growing");
        writeVersion(root, 1);
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(root);
        assertEquals(1, stub.score(request(0, PAIRS)).getVersion());

        writeVersion(root, 2);
        Path incomplete = RewardModelCheckpoint.versionDirectory(root, 3);
        Files.createDirectories(incomplete);
        Files.copy(RewardModelCheckpoint.versionDirectory(root, 2).resolve("config.json"),
                incomplete.resolve("config.json"));

        ListVersionsResponse listed = stub.listVersions(ListVersionsRequest.getDefaultInstance());
        assertEquals(List.of(1, 2), listed.getVersionsList().stream().map(RewardModelVersion::getVersion).toList());
        assertEquals(2, listed.getLatest());
        assertEquals(2, stub.score(request(0, PAIRS)).getVersion(), "a version written while serving is used");
        StatusRuntimeException notYet = assertThrows(StatusRuntimeException.class,
                () -> stub.score(request(3, PAIRS)));
        assertEquals(Status.Code.NOT_FOUND, notYet.getStatus().getCode(), "an incomplete version is not served");
    }

    @Test
    void aSingleCheckpointIsServedAsItsVersion() throws Exception {
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(RewardModelCheckpoint.versionDirectory(versions, 2));

        assertEquals(2, stub.score(request(0, PAIRS.subList(0, 1))).getVersion());
        assertEquals(2, stub.score(request(2, PAIRS.subList(0, 1))).getVersion());
        assertEquals(2, stub.listVersions(ListVersionsRequest.getDefaultInstance()).getLatest());
    }

    @Test
    void listVersionsDescribesEachVersion() throws Exception {
        ListVersionsResponse listed = serve(versions).listVersions(ListVersionsRequest.getDefaultInstance());

        assertEquals(2, listed.getVersionsCount());
        assertEquals(MAX_PAIRS, listed.getMaxPairs());
        RewardModelVersion second = listed.getVersions(1);
        assertEquals(2, second.getVersion());
        assertEquals(20, second.getTrainedThroughSequence());
        assertEquals(0.2, second.getNormalizerMean(), 1e-12);
        assertEquals(2, second.getNormalizerStd(), 1e-12);
        assertEquals(TinyRewardModels.CONTEXT, second.getContextLength());
        assertEquals(0.52, second.getMetricsOrThrow("held_out_accuracy"), 1e-12);
        assertEquals(RewardModelCheckpoint.versionDirectory(versions, 2).toAbsolutePath().normalize().toString(),
                second.getCheckpointDir());
    }

    @Test
    void everyBadRequestIsRejectedNamingItsField() throws Exception {
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(versions);
        String tooLong = "The staff was friendly and the coffee was great. ".repeat(4);

        assertRejected(stub, "pairs", () -> stub.score(request(0, List.of())));
        assertRejected(stub, "pairs", () -> stub.score(request(0, Collections.nCopies(MAX_PAIRS + 1,
                PAIRS.get(0)))));
        assertRejected(stub, "pairs[1].prompt", () -> stub.score(request(0, List.of(PAIRS.get(0),
                new PromptResponse("", " fine")))));
        assertRejected(stub, "pairs[0].response", () -> stub.score(request(0, List.of(
                new PromptResponse("The coffee", "")))));
        assertRejected(stub, "pairs[2]", () -> stub.score(request(0, List.of(PAIRS.get(0), PAIRS.get(1),
                new PromptResponse("Review:", tooLong)))));

        StatusRuntimeException unknown = assertThrows(StatusRuntimeException.class,
                () -> stub.score(request(7, PAIRS)));
        assertEquals(Status.Code.NOT_FOUND, unknown.getStatus().getCode());
        assertTrue(unknown.getStatus().getDescription().contains("version 7"), unknown.getStatus().toString());
    }

    @Test
    void pairTextIsCappedInBytes() throws Exception {
        // half the context: a pair at the cap fits, as each token takes at least a byte
        int cap = TinyRewardModels.CONTEXT / 2;
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(new RewardServeSettings(Optional.of(versions),
                MAX_PAIRS, cap, BATCH, 16, 2), RunningServer.SETTINGS);
        String atCap = "é".repeat(cap / 2);
        String overCap = atCap + "x";

        ScoreResponse scored = stub.score(request(0, List.of(new PromptResponse(atCap, atCap))));
        int listedCap = stub.listVersions(ListVersionsRequest.getDefaultInstance()).getMaxTextBytes();

        assertEquals(1, scored.getScoresCount(), "a pair whose prompt and response are " + cap + " bytes is scored");
        assertEquals(cap, listedCap);
        assertRejected(stub, "pairs[0].prompt", () -> stub.score(request(0, List.of(
                new PromptResponse(overCap, atCap)))));
        assertRejected(stub, "pairs[1].response", () -> stub.score(request(0, List.of(PAIRS.get(0),
                new PromptResponse(atCap, overCap)))));
    }

    @Test
    void invalidUtf8IsRejectedNamingTheField() throws Exception {
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(versions);
        ByteString pair = PromptResponsePair.newBuilder().setPrompt("The coffee").build().toByteString()
                .concat(RawCalls.field(2, ByteString.copyFrom(RawCalls.INVALID_UTF8)));
        ByteString request = RawCalls.field(1, pair);

        assertRejected(stub, "pairs[0].response",
                () -> RawCalls.call(running.channel, RewardServiceGrpc.getScoreMethod(), request));
    }

    private static void assertRejected(RewardServiceGrpc.RewardServiceBlockingStub stub, String field,
            Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call, field);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), field + ": " + e.getStatus());
        assertTrue(e.getStatus().getDescription().startsWith(field),
                "the message should start with " + field + " but was: " + e.getStatus().getDescription());
        assertEquals(1, stub.score(request(0, PAIRS.subList(0, 1))).getScoresCount(),
                "the server answers after rejecting " + field);
    }

    @Test
    void healthAndReflectionListRewardService() throws Exception {
        serve(versions);

        ServingStatus health = HealthGrpc.newBlockingStub(running.channel).check(HealthCheckRequest.newBuilder()
                .setService(RewardServiceGrpc.SERVICE_NAME).build()).getStatus();
        List<String> reflected = running.reflectedServices();

        assertEquals(ServingStatus.SERVING, health);
        assertTrue(reflected.contains(RewardServiceGrpc.SERVICE_NAME), "listed: " + reflected);
    }

    @Test
    void withAuthOnScoringNeedsTheToken() throws Exception {
        RewardServiceGrpc.RewardServiceBlockingStub anonymous =
                serve(versions, 2, RunningServer.SETTINGS.withAuthToken("s3cret"));

        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class,
                () -> anonymous.score(request(0, PAIRS)));

        assertEquals(Status.Code.UNAUTHENTICATED, refused.getStatus().getCode());
    }

    @Test
    void nativeArraysStayFlatWhileVersionsAreSwappedInAndOut() throws Exception {
        RewardServiceGrpc.RewardServiceBlockingStub stub = serve(versions, 1, RunningServer.SETTINGS);
        BaseNDManager root = (BaseNDManager) manager;
        int withoutRewardModel = root.getManagedArrays().size();
        stub.score(request(1, PAIRS));
        stub.score(request(2, PAIRS));
        int withOneLoaded = root.getManagedArrays().size();

        for (int round = 0; round < 3; round++) {
            stub.score(request(1, PAIRS));
            stub.score(request(2, PAIRS));
        }

        assertTrue(withOneLoaded > withoutRewardModel, "the count sees a loaded reward model");
        assertEquals(withOneLoaded, root.getManagedArrays().size(),
                "native arrays after alternating versions with one held at a time");
    }
}
