package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

/** The request caps as reference.conf sets them, and a cap that is not positive named by its key. */
class ServeSettingsTest {
    private static final Config REFERENCE = ConfigFactory.defaultReference();

    @Test
    void referenceConfCapsTextAndStopStrings() {
        ServeSettings serve = ServeSettings.fromConfig(REFERENCE);
        RewardServeSettings reward = RewardServeSettings.fromConfig(REFERENCE);

        assertEquals(65536, serve.maxTextBytes());
        assertEquals(16, serve.maxStopStrings());
        assertEquals(256, serve.maxStopStringBytes());
        assertEquals(65536, reward.maxTextBytes());
    }

    @Test
    void aCapThatIsNotPositiveIsRefusedNamingItsKey() {
        Config zero = ConfigFactory.parseString("rlhf.serve.max-stop-strings = 0").withFallback(REFERENCE);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServeSettings.fromConfig(zero));

        assertTrue(e.getMessage().startsWith("rlhf.serve.max-stop-strings"), e.getMessage());
    }
}
