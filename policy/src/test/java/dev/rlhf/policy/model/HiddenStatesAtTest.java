package dev.rlhf.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        long[] ids = new long[batch * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = (i * 13 + 5) % config.vocabSize();
        }
        try (NDManager manager = NDManager.newBaseManager();
                GptModel model = new GptModel(GptWeights.random(config, false, manager, 3))) {
            Gradients.inferenceOnly();
            Shape shape = new Shape(batch, length);
            NDArray tokenIds = manager.create(ids, shape);
            NDArray attentionMask = manager.create(mask, shape);
            float[] full = model.hiddenStates(tokenIds, attentionMask, null).toFloatArray();
            float[] chosen = model.hiddenStatesAt(tokenIds, attentionMask, positions).toFloatArray();
            int d = config.dModel();
            assertEquals(batch * d, chosen.length);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < d; j++) {
                    float expected = full[(b * length + (int) positions[b]) * d + j];
                    assertEquals(expected, chosen[b * d + j], TOLERANCE, "row " + b + ", feature " + j);
                }
            }
        }
    }
}
