package dev.rlhf.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
    void headerOnceThenOneBarAndRowPerIteration() {
        ConsoleProgress progress = new ConsoleProgress(out, 10, List.of("reward/rm_mean", "kl", "perf/tokens_per_s"));

        progress.show(1, Map.of("reward/rm_mean", 0.512, "kl", 0.00031, "perf/tokens_per_s", 12345.678));
        progress.show(5, Map.of("reward/rm_mean", -1.5, "kl", Double.NaN));
        progress.show(10, Map.of("reward/rm_mean", 2.0, "kl", 0.0, "perf/tokens_per_s", 1.0));

        assertEquals("""
                                         reward/rm_mean          kl  perf/tokens_per_s
                [#.........]  1/10 iter          0.5120   0.0003100          1.235e+04
                [#####.....]  5/10 iter          -1.500         NaN                  -
                [##########] 10/10 iter           2.000       0.000              1.000
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void barStaysWithinItsWidthPastTheLastIteration() {
        ConsoleProgress progress = new ConsoleProgress(out, 3, List.of("kl"));

        progress.show(0, Map.of("kl", 1.0));
        progress.show(4, Map.of("kl", 1.0));

        assertEquals("""
                                               kl
                [..........] 0/3 iter       1.000
                [##########] 4/3 iter       1.000
                """, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void nonPositiveTotalIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new ConsoleProgress(out, 0, List.of("kl")));
        assertEquals("total iterations must be positive but was: 0", e.getMessage());
    }
}
