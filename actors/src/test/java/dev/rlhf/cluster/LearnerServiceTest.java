package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.ComparedPair;
import dev.rlhf.proto.v1.FinishReason;
import dev.rlhf.proto.v1.JudgedPair;
import dev.rlhf.proto.v1.LearnRequest;
import dev.rlhf.proto.v1.LearnResponse;
import dev.rlhf.proto.v1.LearnerServiceGrpc;
import dev.rlhf.proto.v1.OpenRunRequest;
import dev.rlhf.proto.v1.PromptTokens;
import dev.rlhf.proto.v1.PublishWeightsRequest;
import dev.rlhf.proto.v1.RolloutCompletion;
import dev.rlhf.proto.v1.SaveCheckpointRequest;
import dev.rlhf.proto.v1.SaveCheckpointResponse;
import dev.rlhf.proto.v1.UsePreferencesRequest;
import dev.rlhf.run.TinyExperiments;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * LearnerService in front of a real learner: every bad field answers INVALID_ARGUMENT naming it; another SFT policy,
 * a run not open, a checkpoint the node lacks and a version it does not hold answer FAILED_PRECONDITION; an update
 * answers the next weight version, and a checkpoint comes back with its state.json.
 */
class LearnerServiceTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static final String RUN = "run-1";
    private static final int BATCH = 16;
    @TempDir static Path dir;
    private static NDManager manager;
    private static Policy sft;
    private static ByteString sftSha256;

    private Server server;
    private ManagedChannel channel;
    private LearnerGrpcService service;
    private LearnerServiceGrpc.LearnerServiceBlockingStub stub;

    @BeforeAll
    static void loadPolicy() throws Exception {
        manager = NDManager.newBaseManager();
        sft = Policy.load(TinyExperiments.bootstrapPolicy(dir.resolve("sft")), manager);
        sftSha256 = VersionChunks.sha256(SnapshotSafetensors.encode(WeightsSnapshot.of(sft.model().weights(), 0)));
    }

    @AfterAll
    static void closePolicy() {
        TESTKIT.shutdownTestKit();
        sft.close();
        manager.close();
    }

    @BeforeEach
    void startService() throws Exception {
        service = new LearnerGrpcService(TESTKIT.system(), sft, manager, dir.resolve("checkpoints"),
                ClusterSettings.from(ConfigFactory.load()));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).build();
        stub = LearnerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterEach
    void stopService() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        service.close();
    }

    @Test
    void everyBadFieldOfOpenRunIsRefusedNamingIt() {
        assertRefused(Status.Code.INVALID_ARGUMENT, "run", () -> stub.openRun(open(r -> r.setRun("../etc"))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "algorithm", () -> stub.openRun(open(r -> r.setAlgorithm("sac"))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "config", () -> stub.openRun(open(r -> r.setConfig("rlhf {"))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "sft_sha256",
                () -> stub.openRun(open(r -> r.setSftSha256(ByteString.copyFrom(new byte[3])))));
        assertRefused(Status.Code.FAILED_PRECONDITION, "sft_sha256",
                () -> stub.openRun(open(r -> r.setSftSha256(ByteString.copyFrom(new byte[32])))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "resume_iteration",
                () -> stub.openRun(open(r -> r.setResumeIteration(-2))));
        assertRefused(Status.Code.FAILED_PRECONDITION, "no checkpoint",
                () -> stub.openRun(open(r -> r.setResumeIteration(4))));
    }

    @Test
    void callsForARunTheNodeDoesNotHoldAreRefused() {
        assertRefused(Status.Code.FAILED_PRECONDITION, "not open", () -> stub.learn(learn(r -> r)));
        stub.openRun(open(r -> r));
        assertRefused(Status.Code.FAILED_PRECONDITION, "holds " + RUN, () -> stub.learn(learn(r -> r.setRun("run-2"))));
    }

    @Test
    void everyBadFieldOfABatchIsRefusedNamingIt() {
        stub.openRun(open(r -> r));
        assertRefused(Status.Code.INVALID_ARGUMENT, "iteration", () -> stub.learn(learn(r -> r.setIteration(-1))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "prompts and completions",
                () -> stub.learn(learn(r -> r.removePrompts(0))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "prompts[2].token_ids[1]", () -> stub.learn(learn(r -> r
                .setPrompts(2, PromptTokens.newBuilder().addTokenIds(1).addTokenIds(sft.tokenizer().vocabSize())))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "completions[3].logprobs[0]", () -> stub.learn(learn(r -> r
                .setCompletions(3, completion().toBuilder().setLogprobs(0, 0.5f)))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "scores",
                () -> stub.learn(learn(r -> r.clearScores().addScores(1f))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "scores[5]", () -> stub.learn(learn(r -> r.setScores(5,
                Float.NaN))));
        assertRefused(Status.Code.INVALID_ARGUMENT, "port", () -> stub.publishWeights(
                PublishWeightsRequest.newBuilder().setRun(RUN).setHost("127.0.0.1").setPort(0).build()));
    }

    @Test
    void anUpdateAnswersTheNextVersionWhichAloneIsPublishedAndACheckpointComesBackWithItsState() throws Exception {
        assertEquals(0, stub.openRun(open(r -> r)).getWeightVersion());

        LearnResponse learned = stub.learn(learn(r -> r));
        SaveCheckpointResponse saved = stub.saveCheckpoint(SaveCheckpointRequest.newBuilder().setRun(RUN)
                .setIteration(1).setRewardModelVersion(1).setRetrainingDue(-1).build());

        assertEquals(1, learned.getWeightVersion());
        assertEquals(0, learned.getIteration());
        assertFalse(learned.getScalarsList().isEmpty(), "the update's statistics");
        assertRefused(Status.Code.FAILED_PRECONDITION, "not the learner's newest", () -> stub.publishWeights(
                PublishWeightsRequest.newBuilder().setRun(RUN).setVersion(0).setHost("127.0.0.1").setPort(1).build()));
        assertTrue(Files.isRegularFile(Path.of(saved.getPath()).resolve("model.safetensors")), saved.getPath());
        assertTrue(saved.getStateJson().contains("\"weight_version\": 1"), saved.getStateJson());
        assertEquals(1, stub.openRun(open(r -> r.setResumeIteration(1))).getWeightVersion(),
                "the node resumes from its own checkpoint");
    }

    @Test
    void onlyAnOfflineAlgorithmTakesJudgedComparisonsAndThenLearnsFromThem() {
        stub.openRun(open(r -> r));
        assertRefused(Status.Code.FAILED_PRECONDITION, "ppo learns from rollouts",
                () -> stub.usePreferences(preferences(1, 2)));
        stub.openRun(open(r -> r.setAlgorithm("dpo")));
        assertRefused(Status.Code.INVALID_ARGUMENT, "comparisons[1].sequence",
                () -> stub.usePreferences(preferences(2, 1)));

        stub.usePreferences(preferences(1, 2, 3, 4));
        LearnResponse learned = stub.learn(learn(r -> r));

        assertEquals(1, learned.getWeightVersion());
        assertTrue(learned.getScalarsList().stream().anyMatch(scalar -> scalar.getName().startsWith("dpo/")),
                learned.getScalarsList().toString());
    }

    private static UsePreferencesRequest preferences(long... sequences) {
        UsePreferencesRequest.Builder request = UsePreferencesRequest.newBuilder().setRun(RUN);
        for (long sequence : sequences) {
            request.addComparisons(JudgedPair.newBuilder().setSequence(sequence)
                    .setComparison(ComparedPair.newBuilder().setPrompt("The room").setResponseA(" was nice.")
                            .setResponseB(" was rude."))
                    .setAnnotatorId("panel-0").setVerdict("A").setStrength(1));
        }
        return request.build();
    }

    private static OpenRunRequest open(UnaryOperator<OpenRunRequest.Builder> change) {
        String config = TinyExperiments.config(dir.resolve("run"), 2).getConfig("rlhf").withoutPath("cluster")
                .atKey("rlhf").root().render(ConfigRenderOptions.concise());
        return change.apply(OpenRunRequest.newBuilder().setRun(RUN).setAlgorithm("ppo").setConfig(config)
                .setSftSha256(sftSha256).setResumeIteration(-1)).build();
    }

    private static LearnRequest learn(UnaryOperator<LearnRequest.Builder> change) {
        LearnRequest.Builder request = LearnRequest.newBuilder().setRun(RUN).setIteration(0);
        for (int i = 0; i < BATCH; i++) {
            request.addPrompts(PromptTokens.newBuilder().addTokenIds(1 + i).addTokenIds(2))
                    .addCompletions(completion())
                    .addScores(i % 2 == 0 ? 1f : -1f);
        }
        return change.apply(request).build();
    }

    private static RolloutCompletion completion() {
        return RolloutCompletion.newBuilder().addTokenIds(3).addTokenIds(4).addLogprobs(-2f).addLogprobs(-3f)
                .setFinishReason(FinishReason.FINISH_REASON_LENGTH).setText("ab").build();
    }

    private static void assertRefused(Status.Code code, String field, Executable call) {
        StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, call);
        assertEquals(code, refused.getStatus().getCode(), refused.getStatus().toString());
        assertTrue(refused.getStatus().getDescription().contains(field), "names " + field + ": "
                + refused.getStatus().getDescription());
    }
}
