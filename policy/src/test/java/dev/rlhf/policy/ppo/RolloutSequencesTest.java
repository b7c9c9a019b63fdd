package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class RolloutSequencesTest {

    @Test
    void packLeftPadsPromptsAndRightPadsResponses() {
        RolloutSequences packed = RolloutSequences.pack(
                List.of(new int[] {5, 6}, new int[] {7}), List.of(new int[] {8}, new int[] {9, 10}), 0);

        assertEquals(2, packed.promptLength());
        assertEquals(2, packed.responseLength());
        assertArrayEquals(new long[] {5, 6, 8, 0, 0, 7, 9, 10}, packed.tokenIds());
        assertArrayEquals(new long[] {1, 1, 1, 0, 0, 1, 1, 1}, packed.attentionMask());
        assertArrayEquals(new float[] {1, 0, 1, 1}, packed.responseMask());
        assertEquals(1, packed.responseTokens(0));
    }

    @Test
    void aPromptPaddedOnTheRightIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new RolloutSequences(1, 2, 1, new long[] {1, 2, 3}, new long[] {1, 0, 1}));

        assertEquals("row 0 must have at least one prompt and one response token", e.getMessage());
    }

    @Test
    void aResponseWithAHoleIsRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> new RolloutSequences(1, 1, 3, new long[] {1, 2, 3, 4}, new long[] {1, 1, 0, 1}));
    }
}
