package dev.rlhf.policy.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.TinyGpt2Checkpoint;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generation in a loop must release every native array it allocates. */
class GenerationMemoryTest {
    /** Requests repeat with this period, so the warm-up meets every shape (PyTorch caches kernels per shape). */
    private static final int PERIOD = 20;
    private static final int WARM_UP = 15 * PERIOD;
    private static final int CALLS = 200;
    /**
     * Measured on the shared 2-core machine: after the warm-up, RSS outside the Java heap still moves by up to
     * 21 MB over the loop (JIT compiler threads, malloc arenas and G1 bookkeeping settling, in bursts; a longer
     * warm-up does not remove it, and a 3000-call run stays within that band), while one KV cache leaked per call
     * adds about 106 MB over the loop (checked by leaking one on purpose).
     */
    private static final long RSS_SLACK_KB = 40 * 1024;

    @TempDir
    static Path dir;

    private static NDManager manager;
    private static GptModel model;

    @BeforeAll
    static void loadTinyCheckpoint() throws Exception {
        // wider and longer than the other tests' model, so one leaked KV cache (about 0.5 MB here) per call
        // would add up to far more than the RSS slack over the loop
        GptConfig config = new GptConfig(50, 64, 128, 2, 4, 1e-5f, -1);
        manager = NDManager.newBaseManager();
        model = TinyGpt2Checkpoint.load(
                TinyGpt2Checkpoint.write(dir, config, TinyGpt2Checkpoint.randomTensors(config, true, 51L)), manager);
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @Test
    void repeatedGenerationKeepsNativeArraysAndRssFlat() throws IOException {
        BaseNDManager weights = (BaseNDManager) model.weights().manager();
        Generator generator = new Generator(model, ids -> "x".repeat(ids.length));
        int arraysBefore = weights.getManagedArrays().size();
        try (NDManager probe = weights.newSubManager()) {
            probe.zeros(new Shape(2));
            assertEquals(arraysBefore + 1, weights.getManagedArrays().size(),
                    "the count must see an array left open in a sub-manager, as a leak in generate would be");
        }
        for (int i = 0; i < WARM_UP; i++) {
            generator.generate(requests(i % PERIOD));
        }
        Rss afterWarmUp = Rss.read();

        long start = System.nanoTime();
        for (int i = 0; i < CALLS; i++) {
            generator.generate(requests(i % PERIOD));
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        Rss afterLoop = Rss.read();
        int arraysAfter = weights.getManagedArrays().size();

        long growth = afterLoop.outsideHeapKb() - afterWarmUp.outsideHeapKb();
        System.out.printf("{\"calls\": %d, \"loopMs\": %d, \"managedArraysBefore\": %d, \"managedArraysAfter\": %d, "
                + "\"rssAfterWarmUpKb\": %d, \"rssAfterLoopKb\": %d, \"javaHeapRssAfterWarmUpKb\": %d, "
                + "\"javaHeapRssAfterLoopKb\": %d, \"rssOutsideJavaHeapGrowthKb\": %d}%n",
                CALLS, millis, arraysBefore, arraysAfter, afterWarmUp.totalKb(), afterLoop.totalKb(),
                afterWarmUp.javaHeapKb(), afterLoop.javaHeapKb(), growth);
        assertEquals(arraysBefore, arraysAfter,
                "native arrays under the weights' manager after " + (WARM_UP + CALLS) + " generate calls");
        // the Java heap is left out: G1 grows its young generation during such a loop (measured: 40 -> 215 MB
        // committed), which is garbage-collected Java memory, not native memory
        assertTrue(growth < RSS_SLACK_KB, "RSS outside the Java heap grew by " + growth + " kB over " + CALLS
                + " generate calls (from " + afterWarmUp.outsideHeapKb() + " kB), more than " + RSS_SLACK_KB + " kB");
    }

    /**
     * Eight rows: sampled with every filter, greedy, early stop tokens (forcing compaction), a stop string; prompts
     * of 1 to 22 tokens, up to 16 new tokens each.
     */
    private static List<GenerationRequest> requests(int call) {
        List<GenerationRequest> requests = new ArrayList<>();
        for (int r = 0; r < 8; r++) {
            int[] prompt = new int[1 + 3 * r];
            for (int t = 0; t < prompt.length; t++) {
                prompt[t] = (call + 7 * r + 3 * t) % 50;
            }
            long seed = 1000L * call + r;
            SamplingParams params = switch (r % 4) {
                case 0 -> SamplingParams.sample(16, seed).withTemperature(0.8f).withTopK(10).withTopP(0.9f)
                        .withRepetitionPenalty(1.3f);
                case 1 -> SamplingParams.greedy(16);
                case 2 -> SamplingParams.sample(16, seed).withStopTokenIds(Set.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9));
                default -> SamplingParams.sample(16, seed).withStopStrings(List.of("xxxxxxxxxx"));
            };
            requests.add(new GenerationRequest(prompt, params));
        }
        return requests;
    }

    /** Resident memory of the process, and the part of it inside the Java heap, in kB. */
    record Rss(long totalKb, long javaHeapKb) {
        long outsideHeapKb() {
            return totalKb - javaHeapKb;
        }

        /**
         * Reads {@code /proc/self/smaps}. The JVM reserves the Java heap as one range of {@code maxMemory()} bytes
         * and commits parts of it (the CDS archive's heap regions sit at its top, so it is not quite one run of
         * mappings); the heap is taken as that range from the start of the longest run of adjacent anonymous
         * mappings, which nothing else here comes near.
         */
        static Rss read() throws IOException {
            record Mapping(long start, long end, boolean anonymous, long rssKb) {}
            List<Mapping> mappings = new ArrayList<>();
            long start = 0;
            long end = 0;
            boolean anonymous = false;
            for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
                String[] fields = line.trim().split("\\s+");
                if (fields[0].matches("[0-9a-f]+-[0-9a-f]+")) {
                    String[] range = fields[0].split("-");
                    start = Long.parseUnsignedLong(range[0], 16);
                    end = Long.parseUnsignedLong(range[1], 16);
                    anonymous = fields.length < 6;
                } else if (fields[0].equals("Rss:")) {
                    mappings.add(new Mapping(start, end, anonymous, Long.parseLong(fields[1])));
                }
            }
            long heapStart = -1;
            long longest = 0;
            for (int i = 0; i < mappings.size(); i++) {
                if (!mappings.get(i).anonymous() || i > 0 && mappings.get(i - 1).anonymous()
                        && mappings.get(i - 1).end() == mappings.get(i).start()) {
                    continue;
                }
                int j = i;
                while (j + 1 < mappings.size() && mappings.get(j + 1).anonymous()
                        && mappings.get(j + 1).start() == mappings.get(j).end()) {
                    j++;
                }
                long span = mappings.get(j).end() - mappings.get(i).start();
                if (span > longest) {
                    longest = span;
                    heapStart = mappings.get(i).start();
                }
            }
            long maxHeap = Runtime.getRuntime().maxMemory();
            if (longest < maxHeap / 2) {
                throw new IllegalStateException("no run of anonymous mappings near the max heap of " + maxHeap
                        + " bytes in /proc/self/smaps; the longest spans " + longest);
            }
            long total = 0;
            long heap = 0;
            for (Mapping m : mappings) {
                total += m.rssKb();
                if (m.start() >= heapStart && m.start() < heapStart + maxHeap) {
                    heap += m.rssKb();
                }
            }
            return new Rss(total, heap);
        }
    }
}
