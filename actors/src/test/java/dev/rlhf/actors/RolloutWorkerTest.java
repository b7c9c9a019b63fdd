package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A rollout worker reports the weight version it generated with, and comes back at the latest after a crash. */
class RolloutWorkerTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static NDManager manager;
    private static TextTokenizer tokenizer;
    private static GptWeights base;

    @TempDir
    static Path dir;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300)
                .train(List.of("The room was nice.", "The staff was rude.")).writeTokenizerJson(dir));
        base = GptWeights.random(GptConfig.of(tokenizer.vocabSize(), 32, 16, 1, 2, -1), false, manager, 3);
    }

    @AfterAll
    static void tearDown() {
        TESTKIT.shutdownTestKit();
        base.close();
        tokenizer.close();
        manager.close();
    }

    @Test
    void rolloutsCarryTheWeightVersionThatProducedThem() {
        WeightsBoard board = new WeightsBoard(WeightsSnapshot.of(base, 0));
        ActorRef<RolloutWorker.Command> worker = TESTKIT.spawn(
                RolloutWorker.create(0, LocalPolicyReplica.factory(base, tokenizer, board, manager)));
        TestProbe<StatusReply<RolloutWorker.Rollout>> rollouts = TESTKIT.createTestProbe();
        TestProbe<StatusReply<RolloutWorker.WeightsLoaded>> loads = TESTKIT.createTestProbe();

        worker.tell(new RolloutWorker.Generate(0, requests(), rollouts.getRef()));
        RolloutWorker.Rollout before = rollouts.receiveMessage().getValue();
        worker.tell(new RolloutWorker.LoadWeights(new PublishedWeights.InProcess(shifted(1)), loads.getRef()));
        assertEquals(1, loads.receiveMessage().getValue().weightVersion());
        worker.tell(new RolloutWorker.Generate(1, requests(), rollouts.getRef()));
        RolloutWorker.Rollout after = rollouts.receiveMessage().getValue();

        assertEquals(0, before.weightVersion());
        assertEquals(1, after.weightVersion());
        assertFalse(Arrays.equals(before.completions().get(0).logprobs(), after.completions().get(0).logprobs()),
                "new weights give new log-probs for the same seeded request");
    }

    @Test
    void aRestartedWorkerComesBackAtTheLatestPublishedWeights() {
        WeightsBoard board = new WeightsBoard(WeightsSnapshot.of(base, 0));
        board.publish(new PublishedWeights.InProcess(shifted(4)));
        AtomicInteger created = new AtomicInteger();
        RolloutWorker.PolicyReplica.Factory replicas = LocalPolicyReplica.factory(base, tokenizer, board, manager);
        ActorRef<RolloutWorker.Command> worker = TESTKIT.spawn(Behaviors.supervise(RolloutWorker.create(0, () -> {
                    created.incrementAndGet();
                    return replicas.create();
                }))
                .onFailure(SupervisorStrategy.restart()));
        TestProbe<StatusReply<RolloutWorker.Rollout>> rollouts = TESTKIT.createTestProbe();

        // a prompt token outside the vocabulary makes the generator throw: the caller hears of it at once, and the
        // supervisor restarts the worker
        worker.tell(new RolloutWorker.Generate(0,
                List.of(new GenerationRequest(new int[] {1_000_000}, SamplingParams.greedy(3))), rollouts.getRef()));
        StatusReply<RolloutWorker.Rollout> failed = rollouts.receiveMessage();
        assertTrue(failed.isError());
        assertTrue(failed.getError().getMessage().contains("worker 0 failed on chunk 0"), failed.getError().getMessage());
        worker.tell(new RolloutWorker.Generate(1, requests(), rollouts.getRef()));

        RolloutWorker.Rollout rollout = rollouts.receiveMessage().getValue();
        assertEquals(2, created.get(), "the worker was rebuilt once");
        assertEquals(4, rollout.weightVersion(), "the rebuilt replica loaded the latest published weights");
        assertTrue(rollout.completions().get(0).tokenIds().length > 0);
    }

    private static List<GenerationRequest> requests() {
        return List.of(new GenerationRequest(tokenizer.encode("The room"), SamplingParams.sample(5, 9)));
    }

    /** The base weights with every value moved a little, published as {@code version}. */
    private static WeightsSnapshot shifted(long version) {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        WeightsSnapshot.of(base, 0).tensors().forEach((name, values) -> {
            float[] copy = values.clone();
            for (int i = 0; i < copy.length; i++) {
                copy[i] += 0.05f * ((i % 7) - 3);
            }
            tensors.put(name, copy);
        });
        return new WeightsSnapshot(version, tensors);
    }
}
