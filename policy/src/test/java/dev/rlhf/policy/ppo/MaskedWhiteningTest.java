package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class MaskedWhiteningTest {
    // masked entries 1, 3, 5: mean 3, unbiased variance ((-2)^2 + 0 + 2^2) / (3 - 1) = 4, so std 2
    private static final float[] VALUES = {1f, 3f, 5f, 100f};
    private static final float[] MASK = {1, 1, 1, 0};

    @Test
    void whiteningUsesMaskedMeanAndBesselCorrectedVarianceAndZeroesPadding() {
        float[] whitened = MaskedWhitening.whiten(VALUES, MASK, true);

        double scale = 1 / Math.sqrt(4 + 1e-8);
        assertArrayEquals(new float[] {(float) (-2 * scale), 0f, (float) (2 * scale), 0f}, whitened, 1e-6f);
    }

    @Test
    void withoutShiftMeanTheMeanIsKeptAndOnlyTheScaleChanges() {
        float[] whitened = MaskedWhitening.whiten(VALUES, MASK, false);

        assertArrayEquals(new float[] {2f, 3f, 4f, 0f}, whitened, 1e-6f);
    }

    @Test
    void fewerThanTwoMaskedEntriesAreRejected() {
        assertThrows(IllegalArgumentException.class,
                () -> MaskedWhitening.whiten(new float[] {1f, 2f}, new float[] {1, 0}, true));
    }
}
