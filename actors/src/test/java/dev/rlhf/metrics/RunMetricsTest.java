package dev.rlhf.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.proto.tensorboard.Event;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunMetricsTest {

    private static final Instant START = Instant.parse("2024-06-10T06:13:20Z");

    @TempDir Path dir;

    @Test
    void eachRecordReachesJsonlAndTensorBoardWithOneWallTime() throws IOException {
        List<Instant> ticks = List.of(START.plusMillis(500), START.plusMillis(2750));
        var clock = new InstantSource() {
            int next;

            @Override
            public Instant instant() {
                return ticks.get(next++);
            }
        };
        try (RunMetrics metrics = new RunMetrics(MetricsJsonlWriter.open(dir.resolve(MetricsJsonlWriter.FILE_NAME)),
                TensorBoardEventWriter.create(dir, START, "trainer"), Optional.empty(), clock)) {
            metrics.record(1, Map.of("reward/rm_mean", 0.25, "time/rollout_s", 3.5));
            metrics.record(2, Map.of("reward/rm_mean", 0.5, "time/rollout_s", 3.0));
        }

        List<String> lines = Files.readAllLines(dir.resolve(MetricsJsonlWriter.FILE_NAME));
        List<Event> written =
                TensorBoardEventReader.read(dir.resolve("events.out.tfevents.1718000000.trainer")).events();
        assertEquals(2, lines.size());
        assertEquals(3, written.size());
        for (int i = 0; i < 2; i++) {
            JsonObject line = JsonParser.parseString(lines.get(i)).getAsJsonObject();
            Event event = written.get(i + 1);
            assertEquals(i + 1, line.get("iteration").getAsInt());
            assertEquals(i + 1, event.getStep());
            assertEquals(line.get("wall_time").getAsDouble(), event.getWallTime(), "iteration " + (i + 1));
            for (var value : event.getSummary().getValueList()) {
                assertEquals(line.get(value.getTag()).getAsFloat(), value.getSimpleValue(), value.getTag());
            }
        }
        assertEquals(1718000000.5, written.get(1).getWallTime());
    }

    @Test
    void openedRunDirectoryHoldsBothFilesAndTheConsoleShowsEachIteration() throws IOException {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        Path runDir = dir.resolve("runs").resolve("ppo-1");

        PrintStream consoleStream = new PrintStream(console, true, StandardCharsets.UTF_8);
        try (RunMetrics metrics = RunMetrics.open(runDir, new ConsoleProgress(consoleStream, 2, List.of("ppo/entropy")))) {
            metrics.record(1, Map.of("ppo/entropy", 2.5));
        }

        assertEquals(1, Files.readAllLines(runDir.resolve("metrics.jsonl")).size());
        try (Stream<Path> files = Files.list(runDir)) {
            Path events = files.filter(f -> f.getFileName().toString().startsWith("events.out.tfevents."))
                    .findFirst().orElseThrow();
            assertEquals(2, TensorBoardEventReader.read(events).events().size());
        }
        String shown = console.toString(StandardCharsets.UTF_8);
        assertTrue(shown.endsWith("[#####.....] 1/2 iter        2.500           -\n"), shown);
    }
}
