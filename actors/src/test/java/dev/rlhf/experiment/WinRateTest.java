package dev.rlhf.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class WinRateTest {
    @Test
    void tiesCountHalfAndTheIntervalIsWilsons() {
        // run
        WinRate rate = WinRate.of(new double[] {0, 0, 0, 0}, new double[] {1, 1, 0, -1});

        // verify: p = 2.5 / 4; Wilson's interval for it at z = 1.96
        assertEquals(0.625, rate.rate(), 1e-12);
        assertEquals(0.2194, rate.low(), 1e-4);
        assertEquals(0.9081, rate.high(), 1e-4);
        assertEquals(4, rate.comparisons());
    }

    @Test
    void everyComparisonWonKeepsAnIntervalBelowOne() {
        // run
        WinRate rate = WinRate.of(new double[128], filled(128, 1));

        // verify
        assertEquals(1.0, rate.rate());
        assertEquals(0.9709, rate.low(), 1e-4);
        assertEquals(1.0, rate.high(), 1e-9);
    }

    @Test
    void scoresThatDoNotPairUpAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> WinRate.of(new double[2], new double[3]));
    }

    private static double[] filled(int n, double value) {
        double[] values = new double[n];
        Arrays.fill(values, value);
        return values;
    }
}
