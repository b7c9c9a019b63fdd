package dev.rlhf.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsJsonlWriterTest {

    private static final Instant NOW = Instant.parse("2024-06-10T06:13:20.250Z");

    @TempDir Path dir;

    @Test
    void keepThroughDropsLaterIterationsAndACutShortLine() throws IOException {
        Path file = dir.resolve(MetricsJsonlWriter.FILE_NAME);
        try (MetricsJsonlWriter writer = MetricsJsonlWriter.open(file)) {
            for (int iteration = 1; iteration <= 5; iteration++) {
                writer.write(iteration, NOW, Map.of("reward/rm_mean", (double) iteration));
            }
        }
        Files.writeString(file, "{\"iteration\":6,\"wall", StandardCharsets.UTF_8, java.nio.file.StandardOpenOption.APPEND);
        List<String> before = Files.readAllLines(file);

        MetricsJsonlWriter.keepThrough(file, 3);

        assertEquals(before.subList(0, 3), Files.readAllLines(file));
    }

    @Test
    void eachIterationIsOneLineThatParsesBackInOrder() throws IOException {
        Path file = dir.resolve(MetricsJsonlWriter.FILE_NAME);
        try (MetricsJsonlWriter writer = MetricsJsonlWriter.open(file)) {
            for (int iteration = 1; iteration <= 3; iteration++) {
                writer.write(iteration, NOW.plusSeconds(iteration), scalarsAt(iteration));
            }
        }

        List<String> lines = Files.readAllLines(file);

        assertEquals(3, lines.size());
        for (int iteration = 1; iteration <= 3; iteration++) {
            JsonObject line = JsonParser.parseString(lines.get(iteration - 1)).getAsJsonObject();
            assertEquals(List.of("iteration", "wall_time", "reward/rm_mean", "ppo/policy_loss", "perf/tokens_per_s"),
                    List.copyOf(line.keySet()));
            assertEquals(iteration, line.get("iteration").getAsInt());
            assertEquals(1718000000.25 + iteration, line.get("wall_time").getAsDouble(), 1e-6);
            for (Map.Entry<String, Double> scalar : scalarsAt(iteration).entrySet()) {
                assertEquals(scalar.getValue(), line.get(scalar.getKey()).getAsDouble(), scalar.getKey());
            }
        }
    }

    @Test
    void valuesAreJsonNumbers() throws IOException {
        Path file = dir.resolve(MetricsJsonlWriter.FILE_NAME);
        try (MetricsJsonlWriter writer = MetricsJsonlWriter.open(file)) {
            writer.write(7, Instant.ofEpochSecond(1718000000), Map.of("ppo/entropy", 0.5));
        }

        assertEquals("{\"iteration\":7,\"wall_time\":1.718E9,\"ppo/entropy\":0.5}\n", Files.readString(file));
    }

    @Test
    void nanAndInfinitiesAreWrittenAsNullKeepingTheKey() throws IOException {
        Path file = dir.resolve(MetricsJsonlWriter.FILE_NAME);
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("ppo/value_loss", Double.NaN);
        scalars.put("ppo/approx_kl", Double.POSITIVE_INFINITY);
        scalars.put("kl/to_reference", Double.NEGATIVE_INFINITY);
        try (MetricsJsonlWriter writer = MetricsJsonlWriter.open(file)) {
            writer.write(1, NOW, scalars);
        }

        JsonObject line = JsonParser.parseString(Files.readString(file)).getAsJsonObject();

        for (String key : scalars.keySet()) {
            assertTrue(line.has(key), key);
            assertTrue(line.get(key).isJsonNull(), key + " is " + line.get(key));
        }
    }

    @Test
    void reopeningAppendsAndStartsAfterALineCutByACrash() throws IOException {
        Path file = dir.resolve(MetricsJsonlWriter.FILE_NAME);
        Files.writeString(file, "{\"iteration\":1}\n{\"iteration\":2,\"wall_ti", StandardCharsets.UTF_8);

        try (MetricsJsonlWriter writer = MetricsJsonlWriter.open(file)) {
            writer.write(2, NOW, Map.of());
        }

        List<String> lines = Files.readAllLines(file);
        assertEquals(3, lines.size(), String.join("\n", lines));
        assertEquals(2, JsonParser.parseString(lines.get(2)).getAsJsonObject().get("iteration").getAsInt());
    }

    @Test
    void scalarNamedLikeALineFieldIsRejected() throws IOException {
        try (MetricsJsonlWriter writer = MetricsJsonlWriter.open(dir.resolve(MetricsJsonlWriter.FILE_NAME))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> writer.write(1, NOW, Map.of("iteration", 1.0)));
            assertTrue(e.getMessage().contains("iteration"), e.getMessage());
        }
    }

    private static Map<String, Double> scalarsAt(int iteration) {
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("reward/rm_mean", 0.1 * iteration);
        scalars.put("ppo/policy_loss", -0.02 / iteration);
        scalars.put("perf/tokens_per_s", 1234.5 * iteration);
        return scalars;
    }
}
