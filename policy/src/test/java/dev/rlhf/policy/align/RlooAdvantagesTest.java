package dev.rlhf.policy.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RlooAdvantagesTest {

    @Test
    void eachAdvantageIsTheRewardMinusTheMeanOfTheOthers() {
        // setup
        double[] rewards = {1, 2, 4};

        // run
        double[] advantages = RlooAdvantages.compute(rewards, 3);

        // verify: 1 - (2 + 4)/2, 2 - (1 + 4)/2, 4 - (1 + 2)/2
        assertArrayEquals(new double[] {-2, -0.5, 2.5}, advantages, 1e-12);
    }

    @Test
    void groupsOfOneBatchDoNotShareBaselines() {
        // setup: prompt 0's completions, then prompt 1's
        double[] rewards = {1, 2, 4, 10, 10, 13};

        // run
        double[] advantages = RlooAdvantages.compute(rewards, 3);

        // verify: prompt 1: 10 - 23/2, 10 - 23/2, 13 - 20/2
        assertArrayEquals(new double[] {-2, -0.5, 2.5, -1.5, -1.5, 3}, advantages, 1e-12);
    }

    @Test
    void twoCompletionsEachUseTheOtherAsBaseline() {
        assertArrayEquals(new double[] {-1, 1, 0, 0}, RlooAdvantages.compute(new double[] {0, 1, 5, 5}, 2), 1e-12);
    }

    @Test
    void badGroupsAreRejectedWithAClearMessage() {
        IllegalArgumentException small =
                assertThrows(IllegalArgumentException.class, () -> RlooAdvantages.compute(new double[] {1, 2}, 1));
        assertTrue(small.getMessage().contains("k must be at least 2"), small.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RlooAdvantages.compute(new double[] {1, 2}, 0));
        IllegalArgumentException ragged = assertThrows(IllegalArgumentException.class,
                () -> RlooAdvantages.compute(new double[] {1, 2, 3, 4, 5}, 2));
        assertTrue(ragged.getMessage().contains("5 rewards") && ragged.getMessage().contains("multiple of k 2"),
                ragged.getMessage());
        assertThrows(IllegalArgumentException.class, () -> RlooAdvantages.compute(new double[0], 2));
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> RlooAdvantages.compute(new double[] {1, Double.NaN}, 2));
        assertTrue(nan.getMessage().contains("reward 1"), nan.getMessage());
    }

    @Test
    void shapedRewardsSubtractTheCoefficientTimesTheSummedKl() {
        // run
        double[] rewards = RlooAdvantages.shapeRewards(new double[] {1, 2}, new double[] {0.5, -1}, 0.1);

        // verify
        assertArrayEquals(new double[] {0.95, 2.1}, rewards, 1e-12);
        assertThrows(IllegalArgumentException.class,
                () -> RlooAdvantages.shapeRewards(new double[] {1, 2}, new double[] {0.5}, 0.1));
        assertThrows(IllegalArgumentException.class,
                () -> RlooAdvantages.shapeRewards(new double[] {1}, new double[] {0.5}, -0.1));
    }
}
