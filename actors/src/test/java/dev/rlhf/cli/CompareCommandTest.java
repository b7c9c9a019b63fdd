package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.metrics.MetricsJsonlWriter;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import dev.rlhf.run.TinyExperiments;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rlhf compare} on the tiny setup, and the wall-clock budget it compares algorithms with. */
class CompareCommandTest {
    private static final int ITERATIONS = 2;
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    @TempDir static Path shared;
    private static Path sft;

    @BeforeAll
    static void bootstrap() throws IOException {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
    }

    @Test
    void comparesEachAlgorithmAndSeedIntoOneCsvAndFigures() throws IOException {
        // setup
        Path out = shared.resolve("compare");
        Path config = tinyConfig(shared.resolve("compare.conf"));

        // run
        CommandRun outcome = CommandRun.of("compare", "--algorithms", "ppo,grpo", "--seeds", "2", "--iterations",
                Integer.toString(ITERATIONS), "--out", out.toString(), "--config", config.toString());

        // verify
        assertEquals(0, outcome.exitCode(), outcome.stdout() + outcome.stderr());
        Path csv = out.resolve(CompareCommand.CSV_FILE).toAbsolutePath();
        assertEquals(csv.toString(), outcome.lastLine(), "the last line is the csv's path");
        List<String> lines = Files.readAllLines(csv);
        assertEquals(ComparisonResults.CSV_HEADER, lines.get(0));
        assertEquals("algorithm,seed,point,iteration,seconds,kl,gold_reward,rm_score", lines.get(0), "the contract");
        List<String[]> rows = lines.stream().skip(1).map(line -> line.split(",", -1)).toList();
        int perRun = 1 + ITERATIONS + 1;
        assertEquals(2 * 2 * perRun, rows.size(), String.join("\n", lines));
        int at = 0;
        for (String algorithm : List.of("ppo", "grpo")) {
            for (String seed : List.of("1", "2")) {
                List<String[]> run = rows.subList(at, at + perRun);
                at += perRun;
                for (String[] row : run) {
                    assertEquals(algorithm, row[0], Arrays.toString(row));
                    assertEquals(seed, row[1], Arrays.toString(row));
                    assertTrue(Arrays.stream(row).noneMatch(String::isEmpty), "every cell: " + Arrays.toString(row));
                }
                assertArrayEquals(new String[] {"sft", "0"}, Arrays.copyOfRange(run.get(0), 2, 4));
                assertEquals(0.0, Double.parseDouble(run.get(0)[4]), "the SFT point at 0 s");
                assertEquals(0.0, Double.parseDouble(run.get(0)[5]), "and KL 0");
                double previous = 0;
                for (int i = 1; i <= ITERATIONS; i++) {
                    assertEquals("iteration", run.get(i)[2]);
                    assertEquals(Integer.toString(i), run.get(i)[3]);
                    double seconds = Double.parseDouble(run.get(i)[4]);
                    assertTrue(seconds > previous, "time goes on: " + Arrays.toString(run.get(i)));
                    previous = seconds;
                }
                assertEquals("final", run.get(perRun - 1)[2]);
                assertEquals(Integer.toString(ITERATIONS), run.get(perRun - 1)[3]);
            }
        }
        for (String figure : List.of(ComparisonCharts.GOLD_VS_KL, ComparisonCharts.GOLD_VS_SECONDS,
                ComparisonCharts.OVEROPTIMISATION_PPO)) {
            byte[] png = Files.readAllBytes(out.resolve(figure));
            assertArrayEquals(PNG_MAGIC, Arrays.copyOf(png, PNG_MAGIC.length), figure + " is a PNG");
            assertTrue(png.length > 10_000, figure + " has something drawn: " + png.length + " bytes");
        }
        assertTrue(outcome.stdout().contains("gold gain"), "the table: " + outcome.stdout());
        assertTrue(outcome.lines().stream().anyMatch(line -> line.startsWith("grpo ")), outcome.stdout());
        for (String algorithm : List.of("ppo", "grpo")) {
            for (int seed = 1; seed <= 2; seed++) {
                assertEquals(1, perRunLines(outcome, algorithm, seed, out).size(), "one table line per run, its"
                        + " gap closed from the run's summary: " + outcome.stdout());
            }
        }
    }

    /** The lines of the per-run table for {@code algorithm} and {@code seed} that quote its summary's gap closed. */
    private static List<String> perRunLines(CommandRun outcome, String algorithm, int seed, Path out)
            throws IOException {
        JsonObject summary = JsonParser.parseString(Files.readString(
                out.resolve(algorithm + "-seed" + seed).resolve(RunSummary.FILE_NAME))).getAsJsonObject();
        String gap = String.format(Locale.ROOT, "%.1f%%", 100 * summary.get("gap_closed").getAsDouble());
        return outcome.lines().stream()
                .filter(line -> line.matches(algorithm + " +" + seed + " +" + Pattern.quote(gap) + " .*"))
                .toList();
    }

    @Test
    void anUnknownAlgorithmIsAOneLineErrorNamingTheOption() {
        CommandRun outcome = CommandRun.of("compare", "--algorithms", "ppo,kto");

        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.stderr().strip().lines().count(), outcome.stderr());
        assertTrue(outcome.stderr().contains("--algorithms") && outcome.stderr().contains("kto"), outcome.stderr());
    }

    @Test
    void noSeedsIsAOneLineErrorNamingTheOption() {
        CommandRun outcome = CommandRun.of("compare", "--algorithms", "ppo", "--seeds", "0");

        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.stderr().strip().lines().count(), outcome.stderr());
        assertTrue(outcome.stderr().contains("--seeds"), outcome.stderr());
    }

    @Test
    void aSpentBudgetEndsTheRunEarlyAsIfItsLastIterationWereDone() throws Exception {
        // setup: the first reward model alone takes longer than the budget
        Path run = shared.resolve("budget");
        int configured = 50;
        Config config = TinyExperiments.config(run, configured)
                .withValue("rlhf.experiment.budget-seconds", ConfigValueFactory.fromAnyRef(1));

        // run
        RunSummary summary = new ExperimentRunner(config, sft, TinyExperiments.quiet()).run();

        // verify
        assertTrue(summary.iterations() >= 1 && summary.iterations() < configured, "ended early: "
                + summary.iterations());
        assertEquals(summary.iterations(), Files.readAllLines(run.resolve(MetricsJsonlWriter.FILE_NAME)).size());
        assertTrue(Files.isRegularFile(TinyExperiments.weightsAt(run, summary.iterations())),
                "a checkpoint at the budget's end");
        String written = Files.readString(run.resolve(RunSummary.FILE_NAME));
        assertTrue(written.contains("\"gold_reward_tuned\""), "the tuned evaluation: " + written);
        assertFalse(Double.isNaN(summary.klFinal().mean()), "the final KL");
    }

    private static Path tinyConfig(Path file) throws IOException {
        Map<String, Object> keys = new HashMap<>(TinyExperiments.keys(shared.resolve("unused"), ITERATIONS));
        keys.remove("rlhf.experiment.run-dir");
        keys.put("rlhf.experiment.policy-checkpoint", sft.toString());
        Files.writeString(file, ConfigFactory.parseMap(keys).root()
                .render(ConfigRenderOptions.concise().setFormatted(true)), StandardCharsets.UTF_8);
        return file;
    }
}
