package dev.rlhf.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

    @Test
    void headerOnceThenOneBarAndRowPerIterationWithTheTimeLeft() {
        long[] now = {0};
        ConsoleProgress progress = new ConsoleProgress(out, 10, List.of("reward/rm_mean", "kl", "perf/tokens_per_s"),
                () -> now[0]);

        progress.show(1, Map.of("reward/rm_mean", 0.512, "kl", 0.00031, "perf/tokens_per_s", 12345.678));
        now[0] = 40_000_000_000L; // 10 s an iteration
        progress.show(5, Map.of("reward/rm_mean", -1.5, "kl", Double.NaN));
        now[0] = 90_000_000_000L;
        progress.show(10, Map.of("reward/rm_mean", 2.0, "kl", 0.0, "perf/tokens_per_s", 1.0));

        assertEquals("""
                                         reward/rm_mean          kl  perf/tokens_per_s        left
                [#.........]  1/10 iter          0.5120   0.0003100          1.235e+04           -
                [#####.....]  5/10 iter          -1.500         NaN                  -        0:50
                [##########] 10/10 iter           2.000       0.000              1.000        0:00
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void barStaysWithinItsWidthPastTheLastIteration() {
        long[] now = {0};
        ConsoleProgress progress = new ConsoleProgress(out, 3, List.of("kl"), () -> now[0]);

        progress.show(0, Map.of("kl", 1.0));
        now[0] = 4_000_000_000_000L;
        progress.show(4, Map.of("kl", 1.0));

        assertEquals("""
                                               kl        left
                [..........] 0/3 iter       1.000           -
                [##########] 4/3 iter       1.000        0:00
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aLongTimeLeftShowsHours() {
        long[] now = {0};
        ConsoleProgress progress = new ConsoleProgress(out, 100, List.of(), () -> now[0]);

        progress.show(1, Map.of());
        now[0] = 100_000_000_000L; // 100 s an iteration, 98 to go
        progress.show(2, Map.of());

        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("2:43:20"), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void nonPositiveTotalIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConsoleProgress(out, 0, List.of("kl")));
        assertEquals("total iterations must be positive but was: 0", e.getMessage());
    }
}
