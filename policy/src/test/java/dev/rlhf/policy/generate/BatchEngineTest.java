package dev.rlhf.policy.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Continuous batching: sequences joining and leaving a running batch get what they would get alone. */
class BatchEngineTest {
    private static NDManager manager;
    private static GptModel model;

    @BeforeAll
    static void createModel() {
        manager = NDManager.newBaseManager();
        model = new GptModel(GptWeights.random(GptConfig.of(50, 24, 32, 2, 4, -1), false, manager, 11L));
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @Test
    void sequencesJoiningARunningBatchMatchTheirSoloRunsAndTheFullForward() {
        List<GenerationRequest> requests = List.of(
                new GenerationRequest(new int[] {3, 9, 27}, SamplingParams.sample(10, 1L)),
                new GenerationRequest(new int[] {14, 2}, SamplingParams.sample(6, 2L)),
                new GenerationRequest(new int[] {30, 1, 8, 8, 5}, SamplingParams.sample(9, 3L).withTopK(7)),
                new GenerationRequest(new int[] {22}, SamplingParams.greedy(12)));
        List<Completion> solo = new ArrayList<>();
        for (GenerationRequest request : requests) {
            solo.add(new Generator(model, null).generate(List.of(request)).get(0));
        }

        Completion[] joined = new Completion[requests.size()];
        try (BatchEngine engine = new BatchEngine(model, null, 3)) {
            // staggered arrivals, more sequences than rows, and enough steps to force the cache columns to shift
            int submitted = 0;
            for (int step = 0; engine.hasWork() || submitted < requests.size(); step++) {
                if (submitted < requests.size() && step % 4 == 0) {
                    int index = submitted++;
                    engine.submit(requests.get(index), c -> joined[index] = c);
                }
                engine.step();
            }
        }

        for (int i = 0; i < requests.size(); i++) {
            assertNotNull(joined[i], "sequence " + i + " finished");
            assertArrayEquals(solo.get(i).tokenIds(), joined[i].tokenIds(), "tokens of sequence " + i);
            assertEquals(solo.get(i).finishReason(), joined[i].finishReason(), "finish reason of sequence " + i);
        }
        FullForward.assertLogprobsMatch(model, requests, List.of(joined));
    }

    @Test
    void cancelledSequenceLeavesAtTheNextStepAndHearsNothingMore() {
        AtomicInteger tokens = new AtomicInteger();
        Completion[] finished = new Completion[1];
        try (BatchEngine engine = new BatchEngine(model, null, 2)) {
            SequenceHandle handle = engine.submit(new GenerationRequest(new int[] {5, 6}, SamplingParams.sample(20, 4L)),
                    new SequenceListener() {
                        @Override
                        public void onToken(int tokenId, float logprob) {
                            tokens.incrementAndGet();
                        }

                        @Override
                        public void onFinished(Completion completion) {
                            finished[0] = completion;
                        }
                    });
            engine.step();
            engine.step();
            int heard = tokens.get();
            handle.cancel();
            engine.step();
            assertEquals(0, engine.runningCount(), "the cancelled sequence left the batch");
            assertEquals(heard, tokens.get(), "no token is heard after the cancel");
            assertNull(finished[0], "a cancelled sequence is not reported as finished");
        }
    }
}
