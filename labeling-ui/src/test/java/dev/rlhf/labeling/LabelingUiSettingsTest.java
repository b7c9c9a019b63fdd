package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelingUiSettingsTest {

    @Test
    void referenceConfDefaultsAreRead() {
        LabelingUiSettings s = LabelingUiSettings.fromConfig(ConfigFactory.defaultReference());
        assertEquals("127.0.0.1", s.host());
        assertEquals(8080, s.port());
        assertEquals(Duration.ofHours(8), s.sessionIdleTimeout());
        assertEquals(10, s.signInAttempts());
        assertEquals(Duration.ofSeconds(5), s.newTaskPollInterval());
        assertEquals(4096, s.maxRationaleBytes());
        assertEquals(64 * 1024, s.maxRequestBytes());
        assertTrue(s.guidelinesMarkdown().startsWith("# Guidelines"));
    }

    @Test
    void aGuidelinesFileReplacesTheInlineText(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("g.md");
        Files.writeString(file, "# Ours");
        LabelingUiSettings s = LabelingUiSettings.fromConfig(ConfigFactory.parseString(
                "rlhf.labeling-ui.guidelines-file = \"" + file.toString().replace("\\", "\\\\") + "\"")
                .withFallback(ConfigFactory.defaultReference()));
        assertEquals("# Ours", s.guidelinesMarkdown());
    }

    @Test
    void outOfRangeValuesAreRefusedNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LabelingUiSettings.fromConfig(
                ConfigFactory.parseString("rlhf.labeling-ui.sign-in-attempts = 0")
                        .withFallback(ConfigFactory.defaultReference())));
        assertTrue(e.getMessage().contains("sign-in-attempts"), e.getMessage());
    }
}
