package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.GenerateResponse;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rlhf serve --follow}: each complete checkpoint an experiment run writes is served, nothing half-written. */
class CheckpointFollowerTest {
    private static final GenerateRequest GREEDY = GenerateRequest.newBuilder()
            .addPrompts(PromptInput.newBuilder().setText("Review of the cafe:"))
            .setMaxNewTokens(24).setTemperature(0).build();

    @TempDir Path dir;

    @Test
    void eachNewCompleteRunCheckpointIsServedAndAHalfWrittenOneIsNot() throws Exception {
        Path run = dir.resolve("run");
        Path tokenizerDir = dir.resolve("policy");
        try (NDManager manager = NDManager.newBaseManager();
                ServedModel model = TinyServedModel.create(manager, tokenizerDir);
                RunningServer running = RunningServer.start(model);
                CheckpointFollower follower =
                        CheckpointFollower.start(run, running.server, manager, Duration.ofMillis(20))) {
            PolicyServiceGrpc.PolicyServiceBlockingStub stub = PolicyServiceGrpc.newBlockingStub(running.channel);
            List<Integer> initial = stub.generate(GREEDY).getCompletions(0).getTokenIdsList();
            Path halfWritten = run.resolve("checkpoints/iter-00002.tmp"); // a save of iteration 2 under way
            GptCheckpoint.save(model.model().weights(), halfWritten);
            Files.writeString(halfWritten.resolve(RunCheckpoint.STATE_FILE), "{}");

            Path first = TinyRunCheckpoints.save(manager, model.model().config(), run, 1, 7);
            awaitVersion(running.server, 2);
            GenerateResponse afterFirst = stub.generate(GREEDY);
            String servedId = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance()).getCheckpointId();
            List<Integer> firstFresh = freshServerOutput(first, tokenizerDir);

            Path resaved = TinyRunCheckpoints.save(manager, model.model().config(), run, 1, 8);
            awaitVersion(running.server, 3);
            GenerateResponse afterResave = stub.generate(GREEDY);

            assertEquals(2, afterFirst.getWeightVersion());
            assertEquals(firstFresh, afterFirst.getCompletions(0).getTokenIdsList(),
                    "a fresh server on the checkpoint agrees");
            assertNotEquals(initial, afterFirst.getCompletions(0).getTokenIdsList(), "the weights changed");
            assertTrue(servedId.startsWith(first.toAbsolutePath().normalize() + "@sha256:"), servedId);
            assertEquals(3, afterResave.getWeightVersion(), "a checkpoint saved again under its name is new");
            assertEquals(freshServerOutput(resaved, tokenizerDir), afterResave.getCompletions(0).getTokenIdsList());
            assertNotEquals(firstFresh, afterResave.getCompletions(0).getTokenIdsList(), "the resaved weights differ");
            assertTrue(Files.isDirectory(halfWritten), "the half-written checkpoint was there all along");
        }
    }

    private static List<Integer> freshServerOutput(Path checkpoint, Path tokenizerDir) throws Exception {
        try (NDManager own = NDManager.newBaseManager();
                ServedModel fresh = new ServedModel(new GptModel(GptCheckpoint.load(checkpoint, own)),
                        Optional.of(TextTokenizer.load(tokenizerDir)), "fresh", 1);
                RunningServer other = RunningServer.start(fresh)) {
            return PolicyServiceGrpc.newBlockingStub(other.channel).generate(GREEDY).getCompletions(0)
                    .getTokenIdsList();
        }
    }

    private static void awaitVersion(PolicyServer server, long version) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.weightVersion() < version && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(version, server.weightVersion(), "weight version served");
    }
}
