package dev.rlhf.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.train.Gradients;
import org.junit.jupiter.api.Test;

/** {@link GptModel#hiddenStatesAt} against the full {@link GptModel#hiddenStates} read at the same positions. */
class HiddenStatesAtTest {
    private static final double TOLERANCE = 1e-5;

    @Test
    void matchesFullForwardAtChosenPositionsWithPaddingOnEitherSide() {
        GptConfig config = TinyGpt2Checkpoint.config(-1);
        int length = 7;
        // row 0 full, row 1 right-padded, row 2 left-padded, row 3 padded on both sides
        long[] mask = {
            1, 1, 1, 1, 1, 1, 1,
            1, 1, 1, 1, 0, 0, 0,
            0, 0, 1, 1, 1, 1, 1,
            0, 1, 1, 1, 1, 0, 0};
        long[] positions = {6, 3, 4, 2};
        int batch = positions.length;
        long[] ids = tokenIds(batch * length, 13, 5, config);
        try (NDManager manager = NDManager.newBaseManager();
                GptModel model = new GptModel(GptWeights.random(config, false, manager, 3))) {
            Gradients.inferenceOnly();
            Shape shape = new Shape(batch, length);
            NDArray tokenIds = manager.create(ids, shape);
            NDArray attentionMask = manager.create(mask, shape);
            float[] full = model.hiddenStates(tokenIds, attentionMask, null).toFloatArray();
            float[] chosen = model.hiddenStatesAt(tokenIds, attentionMask, positions).toFloatArray();
            assertReadAt(full, chosen, positions, length, config.dModel());
        }
    }

    @Test
    void readsSeveralPositionsPerRowInTheOrderGiven() {
        GptConfig config = TinyGpt2Checkpoint.config(-1);
        int batch = 2;
        int length = 5;
        long[] mask = {
            1, 1, 1, 1, 1,
            1, 1, 1, 0, 0};
        long[] queries = {4, 1, 0, 2};
        long[] ids = tokenIds(batch * length, 7, 3, config);
        try (NDManager manager = NDManager.newBaseManager();
                GptModel model = new GptModel(GptWeights.random(config, false, manager, 5))) {
            Gradients.inferenceOnly();
            Shape shape = new Shape(batch, length);
            NDArray tokenIds = manager.create(ids, shape);
            float[] full = model.hiddenStates(tokenIds, manager.create(mask, shape), null).toFloatArray();
            float[] chosen = model.hiddenStatesAt(tokenIds, AttentionLayout.padded(mask, batch, length), queries)
                    .toFloatArray();
            assertReadAt(full, chosen, queries, length, config.dModel());
        }
    }

    @Test
    void positionsBeyondTheContextAreRejected() {
        GptConfig config = TinyGpt2Checkpoint.config(-1);
        int length = 2;
        long[] positions = {0, config.contextLength()};
        AttentionLayout layout = new AttentionLayout(1, length, positions, new float[length * length]);
        try (NDManager manager = NDManager.newBaseManager();
                GptModel model = new GptModel(GptWeights.random(config, false, manager, 5))) {
            NDArray tokenIds = manager.create(new long[] {1, 2}, new Shape(1, length));
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class, () -> model.hiddenStatesAt(tokenIds, layout, new long[] {1}));
            assertEquals("position " + config.contextLength() + " is beyond the context length "
                    + config.contextLength(), e.getMessage());
        }
    }

    /** Deterministic token ids {@code (i * stride + offset) mod vocab}. */
    private static long[] tokenIds(int count, int stride, int offset, GptConfig config) {
        long[] ids = new long[count];
        for (int i = 0; i < count; i++) {
            ids[i] = (i * stride + offset) % config.vocabSize();
        }
        return ids;
    }

    /**
     * Query {@code i}'s hidden state equals the full forward's at its position, in row {@code i / perRow}, where the
     * queries divide evenly among the {@code full.length / (length * d)} rows.
     */
    private static void assertReadAt(float[] full, float[] chosen, long[] queries, int length, int d) {
        assertEquals(queries.length * d, chosen.length);
        int perRow = queries.length / (full.length / (length * d));
        for (int i = 0; i < queries.length; i++) {
            int row = i / perRow;
            for (int j = 0; j < d; j++) {
                float expected = full[(row * length + (int) queries[i]) * d + j];
                assertEquals(expected, chosen[i * d + j], TOLERANCE, "query " + i + " (row " + row + "), feature " + j);
            }
        }
    }
}
