package dev.rlhf.policy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.model.GptConfig;
import org.junit.jupiter.api.Test;

class GemmRooflineTest {
    // two layers, d = 8 (MLP 32), vocabulary 16
    private static final GptConfig CONFIG = GptConfig.of(16, 8, 8, 2, 2, -1);

    @Test
    void countsTheTrunksWeightProductsByHand() {
        // 2 rows x 5 tokens, the last block queried at 1 position per row:
        // first block, 10 tokens x 2 flops x (8x24 + 8x8 + 8x32 + 32x8 = 768) = 15,360;
        // last block: keys and values 10 x 2 x 8 x 16 = 2,560, then at 2 tokens 2 x 2 x (64 + 64 + 256 + 256) = 2,560
        double forward = 15_360 + 2_560 + 2_560;
        assertEquals(forward / 1e9, new GemmRoofline().trunk(CONFIG, 2, 5, 1, false, 1).gigaflops(), 1e-15);
        // the gradients of input and weight cost a forward each; times multiplies
        assertEquals(3 * 4 * forward / 1e9, new GemmRoofline().trunk(CONFIG, 2, 5, 1, true, 4).gigaflops(), 1e-15);
        assertEquals(2.0 * 3 * 8 * 16 / 1e9, new GemmRoofline().linear(3, 8, 16, false, 1).gigaflops(), 1e-15);
    }

    @Test
    void countsAGenerationBatchByHand() {
        // 3 prompts of 4 tokens, then 2 decoding steps at 3 rows; 3 vocabulary-major heads (prefill + 2 steps)
        double perTokenBlock = 2.0 * 768;
        double expected = 2 * (12 * perTokenBlock + 2 * 3 * perTokenBlock) + 3 * (2.0 * 3 * 8 * 16);
        assertEquals(expected / 1e9, new GemmRoofline().generation(CONFIG, 3, 4, 2).gigaflops(), 1e-15);
    }

    @Test
    void measuresATimeThatGrowsWithTheCount() {
        try (NDManager manager = NDManager.newBaseManager()) {
            double once = new GemmRoofline().linear(64, 256, 256, true, 1).seconds(manager);
            double tenTimes = new GemmRoofline().linear(64, 256, 256, true, 10).seconds(manager);
            assertTrue(once > 0 && Double.isFinite(once), "seconds " + once);
            // each product is timed at its best of several runs, so ten of them cost several times one
            assertTrue(tenTimes > 3 * once, once + " s once, " + tenTimes + " s ten times");
            assertEquals(0, manager.getManagedArrays().size(), "measurement leaves no arrays behind");
        }
    }
}
