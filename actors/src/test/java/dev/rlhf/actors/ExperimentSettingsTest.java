package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The run's iterations: as configured, except that DPO's and IPO's epochs cap them. */
class ExperimentSettingsTest {
    private static Config config(String algorithm, int iterations) {
        return ConfigFactory.parseMap(Map.of("rlhf.algorithm", algorithm, "rlhf.experiment.iterations", iterations,
                "rlhf.dpo.epochs", 3, "rlhf.ipo.epochs", 4)).withFallback(ConfigFactory.load());
    }

    @Test
    void preferenceAlgorithmsRunAtMostTheirEpochs() {
        assertEquals(3, ExperimentSettings.from(config("dpo", 100)).iterations());
        assertEquals(4, ExperimentSettings.from(config("ipo", 100)).iterations());
        assertEquals(2, ExperimentSettings.from(config("dpo", 2)).iterations(), "fewer iterations than epochs");
    }

    @Test
    void otherAlgorithmsRunTheConfiguredIterations() {
        assertEquals(100, ExperimentSettings.from(config("ppo", 100)).iterations());
        assertEquals(100, ExperimentSettings.from(config("grpo", 100)).iterations());
    }
}
