package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.Map;
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

    @Test
    void annotatorTokensAreReadAsIdToTokenAndNoneByDefault() {
        Config tokens = ConfigFactory.parseString(
                "rlhf.serve.annotator-tokens { alice = \"a-token\", \"bob.smith\" = \"b-token\" }")
                .withFallback(REFERENCE);

        assertEquals(Map.of(), ServeSettings.fromConfig(REFERENCE).annotatorTokens());
        assertEquals(Map.of("alice", "a-token", "bob.smith", "b-token"),
                ServeSettings.fromConfig(tokens).annotatorTokens());
        assertTrue(!ServeSettings.fromConfig(tokens).toString().contains("a-token"),
                "toString leaves the tokens out: " + ServeSettings.fromConfig(tokens));
    }

    @Test
    void anAnnotatorTokenEqualToTheServerTokenIsRefusedWithoutRepeatingIt() {
        Config shared = ConfigFactory.parseString(
                "rlhf.serve { auth-token = \"same\", annotator-tokens { alice = \"same\" } }").withFallback(REFERENCE);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServeSettings.fromConfig(shared));

        assertTrue(e.getMessage().startsWith("rlhf.serve.annotator-tokens.alice"), e.getMessage());
        assertTrue(!e.getMessage().contains("same"), "the message does not repeat the token: " + e.getMessage());
    }
}
