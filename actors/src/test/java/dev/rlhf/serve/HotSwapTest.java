package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.GenerateResponse;
import dev.rlhf.proto.v1.GenerateStreamResponse;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.ModelInfo;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hot-swapping the policy's weights under load: calls in flight finish on the weights they started with, later
 * calls get the new weights (the same output as a fresh server on them), and retired weights free their memory.
 */
class HotSwapTest {
    private static final long OTHER_SEED = 7;
    private static final String PROMPT = "Review of the cafe in Oslo:";

    @TempDir Path dir;
    private NDManager manager;
    private ServedModel model;
    private RunningServer running;
    private PolicyServiceGrpc.PolicyServiceBlockingStub stub;

    @BeforeEach
    void startServer() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir);
        running = RunningServer.start(model);
        stub = PolicyServiceGrpc.newBlockingStub(running.channel);
    }

    @AfterEach
    void stopServer() {
        running.close();
        model.close();
        manager.close();
    }

    private GptModel weights(long seed) {
        return new GptModel(GptWeights.random(model.model().config(), false, manager, seed));
    }

    private static GenerateRequest greedy(int tokens) {
        return GenerateRequest.newBuilder().addPrompts(PromptInput.newBuilder().setText(PROMPT))
                .setMaxNewTokens(tokens).setTemperature(0).build();
    }

    /** Greedy tokens of a fresh server on the weights of {@code seed}. */
    private List<Integer> freshServerOutput(long seed, int tokens) throws Exception {
        try (NDManager own = NDManager.newBaseManager();
                ServedModel fresh = new ServedModel(
                        new GptModel(GptWeights.random(model.model().config(), false, own, seed)),
                        Optional.of(TextTokenizer.load(dir)), "fresh", 1);
                RunningServer other = RunningServer.start(fresh)) {
            return PolicyServiceGrpc.newBlockingStub(other.channel).generate(greedy(tokens))
                    .getCompletions(0).getTokenIdsList();
        }
    }

    @Test
    void aStreamInFlightFinishesOnItsWeightsAndLaterCallsGetTheNewOnes() throws Exception {
        List<Integer> oldLong = stub.generate(greedy(200)).getCompletions(0).getTokenIdsList();
        List<Integer> newShort = freshServerOutput(OTHER_SEED, 40);
        StreamCollector stream = new StreamCollector();
        PolicyServiceGrpc.newStub(running.channel).generateStream(greedy(200), stream);
        assertTrue(stream.firstToken.await(10, TimeUnit.SECONDS), "the stream started");

        long version = running.server.swapWeights(weights(OTHER_SEED), "other-weights");
        int inFlightAtSwap = running.server.inFlightSequences();
        GenerateResponse after = stub.generate(greedy(40));
        GenerateStreamResponse end = stream.end.get(10, TimeUnit.SECONDS);
        ModelInfo info = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());

        assertEquals(2, version);
        assertEquals(1, inFlightAtSwap, "the stream was still decoding when the weights were swapped");
        assertEquals(1, end.getEnd().getWeightVersion(), "the stream reports the weights it ran on");
        assertEquals(oldLong, stream.tokens, "the stream finished on the old weights");
        assertEquals(2, after.getWeightVersion());
        assertEquals(newShort, after.getCompletions(0).getTokenIdsList(), "a fresh server on the new weights agrees");
        assertNotEquals(oldLong.subList(0, 40), newShort, "the weights differ, so the comparison can fail");
        assertEquals(2, info.getWeightVersion());
        assertEquals("other-weights", info.getCheckpointId());
    }

    @Test
    void concurrentCallsAcrossSeveralSwapsAllSucceedAndNativeArraysStayFlat() throws Exception {
        List<List<Integer>> expected = List.of(freshServerOutput(TinyServedModel.SEED, 24),
                freshServerOutput(OTHER_SEED, 24));
        BaseNDManager root = (BaseNDManager) manager;
        stub.generate(greedy(24));
        int baseline = root.getManagedArrays().size();
        ExecutorService clients = Executors.newFixedThreadPool(8);
        AtomicBoolean swapping = new AtomicBoolean(true);
        try {
            List<Future<List<GenerateResponse>>> calls = new ArrayList<>();
            for (int c = 0; c < 8; c++) {
                calls.add(clients.submit(() -> {
                    List<GenerateResponse> answers = new ArrayList<>();
                    while (swapping.get()) {
                        answers.add(stub.generate(greedy(24)));
                    }
                    return answers;
                }));
            }
            for (int swap = 0; swap < 4; swap++) {
                Thread.sleep(150);
                running.server.swapWeights(weights(swap % 2 == 0 ? OTHER_SEED : TinyServedModel.SEED), "w" + swap);
            }
            Thread.sleep(150);
            swapping.set(false);

            List<Long> versions = new ArrayList<>();
            for (Future<List<GenerateResponse>> call : calls) {
                for (GenerateResponse answer : call.get(30, TimeUnit.SECONDS)) {
                    long version = answer.getWeightVersion();
                    versions.add(version);
                    assertEquals(expected.get((int) ((version + 1) % 2)), answer.getCompletions(0).getTokenIdsList(),
                            "output of weight version " + version);
                }
            }
            assertEquals(List.of(1L, 2L, 3L, 4L, 5L), versions.stream().distinct().sorted().toList(),
                    "every version answered calls");
        } finally {
            swapping.set(false);
            clients.shutdownNow();
        }
        assertEquals(0, RunningServer.awaitZero(running.server::inFlightSequences), "sequences in flight");
        assertEquals(0, RunningServer.awaitZero(() -> root.getManagedArrays().size() - baseline),
                "native arrays beyond one model's after 4 swaps");
    }

    @Test
    void weightsOfAnotherShapeAreRefused() {
        GptConfig served = model.model().config();
        GptConfig wider = GptConfig.of(served.vocabSize(), served.contextLength(), 64, 2, 2, -1);

        assertThrows(IllegalArgumentException.class, () -> running.server.swapWeights(
                new GptModel(GptWeights.random(wider, false, manager, 1)), "wider"));
        assertEquals(1, stub.generate(greedy(4)).getWeightVersion(), "the served weights stay");
    }

    /** Collects a stream's tokens and its end. */
    private static final class StreamCollector implements StreamObserver<GenerateStreamResponse> {
        final List<Integer> tokens = new ArrayList<>();
        final CountDownLatch firstToken = new CountDownLatch(1);
        final CompletableFuture<GenerateStreamResponse> end = new CompletableFuture<>();

        @Override
        public void onNext(GenerateStreamResponse response) {
            if (response.hasEnd()) {
                end.complete(response);
                return;
            }
            tokens.addAll(response.getDelta().getTokenIdsList());
            firstToken.countDown();
        }

        @Override
        public void onError(Throwable t) {
            end.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {}
    }
}
