package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import org.junit.jupiter.api.Test;

class KlControllerTest {

    @Test
    void adaptiveControllerClipsTheProportionalErrorAndScalesByStepsOverHorizon() {
        KlController controller = new AdaptiveKlController(0.2, 6, 10_000);

        controller.update(9, 256); // error 9/6 - 1 = 0.5, clipped to 0.2
        double afterHigh = 0.2 * (1 + 0.2 * 256 / 10_000.0);
        assertEquals(afterHigh, controller.coefficient(), 1e-12, "β rises while the KL is above target");

        controller.update(5.4, 256); // error 5.4/6 - 1 = -0.1
        assertEquals(afterHigh * (1 - 0.1 * 256 / 10_000.0), controller.coefficient(), 1e-12,
                "β falls while the KL is below target");
    }

    @Test
    void fixedControllerIgnoresFeedback() {
        KlController controller = new FixedKlController(0.05);

        controller.update(100, 1_000_000);

        assertEquals(0.05, controller.coefficient());
    }

    @Test
    void aControllerResumesFromACheckpointedCoefficient() {
        PpoSettings.KlSettings settings = new PpoSettings.KlSettings(PpoSettings.KlControl.ADAPTIVE, 0.2, 6, 0.5, 10_000);

        KlController resumed = KlController.create(settings, 0.137);

        assertInstanceOf(AdaptiveKlController.class, resumed);
        assertEquals(0.137, resumed.coefficient());
        assertEquals(0.2, KlController.create(settings).coefficient(), "a fresh controller starts at init-coef");
        resumed.update(3.3, 10_000);
        assertEquals(0.137 * 1.1, resumed.coefficient(), 1e-12, "it steers to the setpoint, half of the target: 3");
    }
}
