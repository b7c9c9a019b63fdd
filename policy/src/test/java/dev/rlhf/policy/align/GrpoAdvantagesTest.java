package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.align.GrpoAdvantages.Scaling;
import org.junit.jupiter.api.Test;

/**
 * Group [1, 2, 4]: mean 7/3, sample std sqrt((16/9 + 1/9 + 25/9) / 2) = 1.527525. Group [10, 10, 13]: mean 11,
 * sample std sqrt(3) = 1.732051. Both as one batch: mean 20/3, sample std 4.966555.
 */
class GrpoAdvantagesTest {
    private static final double[] ONE_GROUP = {1, 2, 4};
    private static final double[] TWO_GROUPS = {1, 2, 4, 10, 10, 13};

    @Test
    void groupScalingDividesByTheSampleStdPlusEpsilon() {
        // run
        double[] advantages = GrpoAdvantages.compute(ONE_GROUP, 3, Scaling.GROUP, 1e-4);

        // verify
        assertArrayEquals(new double[] {-0.872814, -0.218204, 1.091018}, advantages, 1e-5);
    }

    @Test
    void noScalingOnlyCentres() {
        // run
        double[] advantages = GrpoAdvantages.compute(ONE_GROUP, 3, Scaling.NONE);

        // verify: Dr. GRPO
        assertArrayEquals(new double[] {-1.333333, -0.333333, 1.666667}, advantages, 1e-5);
    }

    @Test
    void eachGroupIsCentredAndScaledByItself() {
        // run
        double[] advantages = GrpoAdvantages.compute(TWO_GROUPS, 3, Scaling.GROUP, 1e-4);

        // verify: the second group (-1, -1, 2) / (1.732051 + 1e-4)
        assertArrayEquals(new double[] {-0.872814, -0.218204, 1.091018, -0.577317, -0.577317, 1.154634},
                advantages, 1e-5);
    }

    @Test
    void batchScalingCentresOnTheGroupButDividesByTheBatchStd() {
        // run
        double[] advantages = GrpoAdvantages.compute(TWO_GROUPS, 3, Scaling.BATCH, 1e-4);

        // verify: (-4/3, -1/3, 5/3, -1, -1, 2) / (4.966555 + 1e-4)
        assertArrayEquals(new double[] {-0.268457, -0.067114, 0.335571, -0.201343, -0.201343, 0.402686},
                advantages, 1e-5);
    }

    @Test
    void aGroupOfEqualRewardsGetsNoAdvantage() {
        for (Scaling scaling : Scaling.values()) {
            double[] advantages = GrpoAdvantages.compute(new double[] {3, 3, 3, 3, 0, 1, 2, 3}, 4, scaling);
            assertArrayEquals(new double[] {0, 0, 0, 0}, java.util.Arrays.copyOf(advantages, 4), 1e-9,
                    scaling.toString());
        }
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        IllegalArgumentException one = assertThrows(IllegalArgumentException.class,
                () -> GrpoAdvantages.compute(new double[] {1, 2}, 1, Scaling.GROUP));
        assertTrue(one.getMessage().contains("groupSize must be at least 2"), one.getMessage());
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> GrpoAdvantages.compute(new double[] {1, 2, 3, 4}, 3, Scaling.GROUP));
        assertTrue(ragged.getMessage().contains("multiple of groupSize 3"), ragged.getMessage());
        for (double epsilon : new double[] {0, -1e-4, Double.NaN}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> GrpoAdvantages.compute(ONE_GROUP, 3, Scaling.GROUP, epsilon));
            assertTrue(e.getMessage().contains("epsilon"), e.getMessage());
        }
    }
}
