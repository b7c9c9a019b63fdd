package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.run.TinyExperiments;
import dev.rlhf.testing.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf quickstart} with its output going to pipes, as in a CI log: between the first and the last line of
 * the progress table stderr has no log line below WARN, and the run directory's run.log has the log.
 */
class QuietConsoleProcessTest {
    private static final Pattern LOG_LINE = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (TRACE|DEBUG|INFO) .*");
    private static final Pattern PROGRESS_LINE = Pattern.compile("^\\[[#.]+\\] +\\d+/\\d+ iter.*");

    @Test
    void theProgressTableIsNotInterleavedWithLogLinesWhichGoToRunLog(@TempDir Path dir) throws Exception {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        Path run = dir.resolve("run");
        List<String> options = new ArrayList<>(List.of("-Xmx2g", "-Dai.djl.offline=true",
                "-Dlogback.configurationFile=logback.xml", "-Drlhf.embedded-model-dir=" + sft));
        // six iterations: reward model v2 trains and takes over mid-run, logging between two progress lines
        for (Map.Entry<String, Object> key : TinyExperiments.keys(run, 6).entrySet()) {
            options.add("-D" + key.getKey() + "=" + key.getValue());
        }

        Process child = new ProcessBuilder(ChildJvm.command(options, RlhfCli.class,
                "quickstart", "--run-dir", run.toString(), "--iterations", "6"))
                .redirectOutput(dir.resolve("stdout.txt").toFile())
                .redirectError(dir.resolve("stderr.txt").toFile())
                .start();
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the quickstart finished");

        List<String> stderr = Files.readAllLines(dir.resolve("stderr.txt"), StandardCharsets.UTF_8);
        assertEquals(0, child.exitValue(), String.join("\n", stderr));
        int first = indexOfProgress(stderr, 0);
        int last = stderr.size() - 1;
        while (last >= 0 && !PROGRESS_LINE.matcher(stderr.get(last)).matches()) {
            last--;
        }
        assertTrue(first >= 0 && last > first, "a progress table:\n" + String.join("\n", stderr));
        for (String line : stderr.subList(first, last + 1)) {
            assertTrue(!LOG_LINE.matcher(line).matches(), "a log line in the progress table: " + line);
        }
        String runLog = Files.readString(run.resolve("run.log"), StandardCharsets.UTF_8);
        assertTrue(runLog.contains("RewardTrainerActor") && runLog.contains(" INFO "), runLog);
    }

    private static int indexOfProgress(List<String> lines, int from) {
        for (int i = from; i < lines.size(); i++) {
            if (PROGRESS_LINE.matcher(lines.get(i)).matches()) {
                return i;
            }
        }
        return -1;
    }
}
