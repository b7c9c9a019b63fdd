package dev.rlhf.policy.ppo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class PpoSettingsTest {

    @Test
    void referenceConfDefaultsFollowTrl() {
        PpoSettings settings = PpoSettings.from(ConfigFactory.load());

        assertEquals(0.2, settings.clipRange());
        assertEquals(0.2, settings.valueClipRange());
        assertEquals(1.0, settings.gamma());
        assertEquals(0.95, settings.lambda());
        assertEquals(4, settings.epochs());
        assertEquals(2, settings.minibatches());
        assertEquals(1.0f, settings.maxGradNorm());
        assertEquals(0.0, settings.entropyCoef());
        assertTrue(settings.whitenAdvantages());
        // the KL controller's start, budget and horizon are scaled to our small runs (see reference.conf)
        assertEquals(new PpoSettings.KlSettings(PpoSettings.KlControl.ADAPTIVE, 0.05, 8, 0.85, 250), settings.kl());
    }

    @Test
    void anUnknownKlControlIsRejectedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> PpoSettings.from(
                ConfigFactory.parseString("rlhf.ppo.kl.control = pid").withFallback(ConfigFactory.load())));

        assertEquals("rlhf.ppo.kl.control must be fixed or adaptive but was pid", e.getMessage());
    }

    @Test
    void aNegativeClipRangeIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> PpoSettings.from(
                ConfigFactory.parseString("rlhf.ppo.cliprange = -0.1").withFallback(ConfigFactory.load())));
    }
}
