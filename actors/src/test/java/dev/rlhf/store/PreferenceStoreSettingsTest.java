package dev.rlhf.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class PreferenceStoreSettingsTest {

    @Test
    void referenceConfHoldsTheDocumentedDefaults() {
        PreferenceStoreSettings settings = PreferenceStoreSettings.fromConfig(ConfigFactory.load());

        assertEquals(new PreferenceStoreSettings(Path.of("data/preferences"), 3, 4096, 3, 1024, 65536,
                Duration.ofMinutes(30), Duration.ofMinutes(2)), settings);
        assertEquals(PreferenceStoreSettings.DEFAULT_UNDO_WINDOW, settings.undoWindow(),
                "the constant for settings built in code must match reference.conf");
    }

    @Test
    void overridesInHoconReplaceDefaults() {
        PreferenceStoreSettings settings = PreferenceStoreSettings.fromConfig(ConfigFactory
                .parseString("rlhf.store { path = \"/var/rlhf/db\", annotations-per-task = 5 }")
                .withFallback(ConfigFactory.load()));

        assertEquals(Path.of("/var/rlhf/db"), settings.path());
        assertEquals(5, settings.annotationsPerTask());
        assertEquals(4096, settings.rationaleMaxBytes());
    }

    @Test
    void outOfRangeValueIsRejectedNamingItsKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> PreferenceStoreSettings.fromConfig(ConfigFactory
                        .parseString("rlhf.store.rationale-max-bytes = 0")
                        .withFallback(ConfigFactory.load())));

        assertTrue(e.getMessage().contains("rlhf.store.rationale-max-bytes"), e.getMessage());
        IllegalArgumentException undo = assertThrows(IllegalArgumentException.class,
                () -> PreferenceStoreSettings.fromConfig(ConfigFactory
                        .parseString("rlhf.store.undo-window = -1s")
                        .withFallback(ConfigFactory.load())));
        assertTrue(undo.getMessage().contains("rlhf.store.undo-window"), undo.getMessage());
    }
}
