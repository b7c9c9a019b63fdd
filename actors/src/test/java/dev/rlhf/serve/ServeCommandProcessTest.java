package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.cli.RlhfCli;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.ModelInfo;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.PromptResponsePair;
import dev.rlhf.proto.v1.RewardServiceGrpc;
import dev.rlhf.proto.v1.ScoreRequest;
import dev.rlhf.testing.ChildJvm;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf serve} as its own process: it announces its port, answers real calls (following a run: its newest
 * checkpoint and its reward models), and stops on SIGTERM.
 */
class ServeCommandProcessTest {
    private static final Pattern LISTENING = Pattern.compile("grpc listening on ([^:]+):(\\d+)");

    @TempDir Path dir;

    @Test
    void serveAnswersOnThePortItPrintsAndExitsCleanlyOnSigterm() throws Exception {
        Path checkpoint = dir.resolve("policy");
        Path run = dir.resolve("run");
        Path runCheckpoint;
        try (NDManager manager = NDManager.newBaseManager();
                ServedModel model = TinyServedModel.create(manager, checkpoint)) {
            GptCheckpoint.save(model.model().weights(), checkpoint);
            runCheckpoint = TinyRunCheckpoints.save(manager, model.model().config(), run, 1, 7);
            TinyRewardModels.write(manager, checkpoint, model.model().config().vocabSize(),
                    run.resolve(ExperimentRunner.REWARD_MODELS_DIR), 1);
        }
        Path stderr = dir.resolve("serve-stderr.log");
        Process child = new ProcessBuilder(ChildJvm.command(
                        List.of("-Xmx512m", "-Dai.djl.offline=true", "-Drlhf.serve.shutdown-grace=2s",
                                "-Drlhf.serve.follow.poll-interval=50ms"),
                        RlhfCli.class,
                        "serve", "--port", "0", "--checkpoint", checkpoint.toString(), "--follow", run.toString()))
                .redirectError(stderr.toFile())
                .start();
        try {
            Matcher address = awaitListening(child);
            assertNotNull(address, "no \"grpc listening on HOST:PORT\" line; stderr:\n" + Files.readString(stderr));
            ManagedChannel channel = Grpc.newChannelBuilderForAddress(address.group(1),
                    Integer.parseInt(address.group(2)), InsecureChannelCredentials.create()).build();
            try {
                PolicyServiceGrpc.PolicyServiceBlockingStub policy = PolicyServiceGrpc.newBlockingStub(channel);
                ModelInfo info = awaitWeightVersion(policy, 2);
                int tokens = policy.generate(GenerateRequest.newBuilder()
                        .addPrompts(PromptInput.newBuilder().setText("The staff")).setMaxNewTokens(5).build())
                        .getCompletions(0).getTokenIdsCount();
                int rewardVersion = RewardServiceGrpc.newBlockingStub(channel).score(ScoreRequest.newBuilder()
                        .addPairs(PromptResponsePair.newBuilder().setPrompt("The staff").setResponse(" was kind."))
                        .build()).getVersion();

                assertEquals(2, info.getWeightVersion(), "the run's checkpoint is served");
                assertTrue(info.getCheckpointId().startsWith(runCheckpoint.toAbsolutePath().normalize() + "@sha256:"),
                        info.getCheckpointId());
                assertEquals(5, tokens);
                assertEquals(1, rewardVersion);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            child.destroy(); // SIGTERM
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "serve did not exit within 30 s of SIGTERM");
            String log = Files.readString(stderr);
            assertEquals(143, child.exitValue(), "exit status after SIGTERM (128 + 15); stderr:\n" + log);
            assertTrue(log.contains("shutting down the gRPC server"), "the shutdown hook ran; stderr:\n" + log);
            assertFalse(log.contains("Exception"), "no exception on the way down; stderr:\n" + log);
        } finally {
            child.destroyForcibly();
        }
    }

    private static ModelInfo awaitWeightVersion(PolicyServiceGrpc.PolicyServiceBlockingStub policy, long version)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        ModelInfo info = policy.getModelInfo(GetModelInfoRequest.getDefaultInstance());
        while (info.getWeightVersion() < version && System.nanoTime() < deadline) {
            Thread.sleep(20);
            info = policy.getModelInfo(GetModelInfoRequest.getDefaultInstance());
        }
        return info;
    }

    /** The listening line's match, or null if the process ends or a minute passes first; stdout is drained after. */
    private static Matcher awaitListening(Process child) throws Exception {
        CompletableFuture<Matcher> found = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(
                    new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.matches()) {
                        found.complete(m);
                    }
                }
            } catch (Exception e) {
                found.completeExceptionally(e);
            }
            found.complete(null);
        }, "serve-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            return found.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return null;
        }
    }
}
