package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A worker's GenerateChunkResponse is read like any input from outside: each out-of-bounds field is refused with a
 * message that starts with the field's name, and a response within bounds reads back as the rollout it encodes.
 */
class RolloutMessagesTest {
    private static final int VOCAB = 50;
    private static final int CHUNK = 4;
    private static final List<GenerationRequest> REQUESTS = List.of(
            new GenerationRequest(new int[] {1, 2}, SamplingParams.sample(3, 1)),
            new GenerationRequest(new int[] {3}, SamplingParams.sample(5, 2)));

    @Test
    void aResponseWithinBoundsReadsBackAsTheRolloutItEncodes() {
        RolloutWorker.Rollout rollout = RolloutMessages.rollout(valid(), CHUNK, REQUESTS, 9, VOCAB);

        assertEquals(CHUNK, rollout.chunk());
        assertEquals(9, rollout.worker());
        assertEquals(2, rollout.weightVersion());
        assertArrayEquals(new int[] {7, 49, 0}, rollout.completions().get(0).tokenIds());
        assertArrayEquals(new float[] {-0.5f, 0f, -3f}, rollout.completions().get(0).logprobs());
        assertEquals("é!", rollout.completions().get(1).text());
        assertEquals(FinishReason.EOS, rollout.completions().get(1).finishReason());
    }

    @Test
    void tokenIdsOutsideTheVocabularyAreRefusedNamingTheToken() {
        assertRefused("completions[1].token_ids[1]", r -> r.setCompletions(1, r.getCompletions(1).toBuilder()
                .setTokenIds(1, VOCAB)));
        assertRefused("completions[0].token_ids[2]", r -> r.setCompletions(0, r.getCompletions(0).toBuilder()
                .setTokenIds(2, -1)));
    }

    @Test
    void tokenCountsOutsideOneToMaxNewTokensAreRefused() {
        assertRefused("completions[0].token_ids", r -> r.setCompletions(0, r.getCompletions(0).toBuilder()
                .addTokenIds(1).addLogprobs(-1f)));
        assertRefused("completions[1].token_ids", r -> r.setCompletions(1, r.getCompletions(1).toBuilder()
                .clearTokenIds().clearLogprobs()));
    }

    @Test
    void aLogprobCountOtherThanOnePerTokenIsRefused() {
        assertRefused("completions[0].logprobs", r -> r.setCompletions(0, r.getCompletions(0).toBuilder()
                .addLogprobs(-1f)));
        assertRefused("completions[1].logprobs", r -> r.setCompletions(1, r.getCompletions(1).toBuilder()
                .clearLogprobs().addLogprobs(-1f)));
    }

    @Test
    void logprobsThatAreNotFiniteOrAbove0AreRefused() {
        for (float bad : new float[] {Float.NaN, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 0.01f}) {
            assertRefused("completions[0].logprobs[1]", r -> r.setCompletions(0, r.getCompletions(0).toBuilder()
                    .setLogprobs(1, bad)));
        }
    }

    @Test
    void otherFieldsOutOfBoundsAreRefusedNamingThem() {
        assertRefused("completions", r -> r.removeCompletions(1));
        assertRefused("completions", r -> r.addCompletions(r.getCompletions(0)));
        assertRefused("completions[1].finish_reason", r -> r.setCompletions(1, r.getCompletions(1).toBuilder()
                .setFinishReason(dev.rlhf.proto.v1.FinishReason.FINISH_REASON_UNSPECIFIED)));
        assertRefused("chunk", r -> r.setChunk(CHUNK + 1));
        assertRefused("weight_version", r -> r.setWeightVersion(-1));
        assertRefused("seconds", r -> r.setSeconds(Double.NaN));
        assertRefused("seconds", r -> r.setSeconds(-1));
    }

    /** Two completions: three tokens ended by length, two ended by EOS, at version 2. */
    private static GenerateChunkResponse valid() {
        return RolloutMessages.chunkResponse(new RolloutWorker.Rollout(CHUNK, 0, 2, List.of(
                new Completion(new int[] {7, 49, 0}, new float[] {-0.5f, 0f, -3f}, FinishReason.LENGTH, "ab"),
                new Completion(new int[] {12, 13}, new float[] {-1f, -2f}, FinishReason.EOS, "é!")), 0.25));
    }

    private static void assertRefused(String field, UnaryOperator<GenerateChunkResponse.Builder> edit) {
        GenerateChunkResponse bad = edit.apply(valid().toBuilder()).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RolloutMessages.rollout(bad, CHUNK, REQUESTS, 0, VOCAB), "a response with a bad " + field);
        assertTrue(e.getMessage().startsWith(field), "the message names " + field + ": " + e.getMessage());
    }
}
