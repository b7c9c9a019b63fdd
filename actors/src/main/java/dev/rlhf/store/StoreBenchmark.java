package dev.rlhf.store;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Prompt;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Measures durable judgments per second with 1 and 16 concurrent writers (each writer waits for its
 * ack before sending the next judgment) and the rate of reading all of them back, on a fresh store
 * in a temporary directory. Prints nothing and asserts nothing; {@link #runJson} returns the JSON.
 */
public final class StoreBenchmark {

    /** Writer counts measured, in order. */
    static final int[] WRITER_COUNTS = {1, 16};

    private static final String PROMPT_ID = "bench-prompt";
    /** Annotators per task, as in a typical labeling setup; each writer fills its own tasks. */
    private static final int JUDGMENTS_PER_TASK = 3;
    private static final int READ_PAGE = 1000;

    private StoreBenchmark() {}

    /** Runs with 2,000 judgments for one writer and 32,000 for sixteen. */
    public static String runJson() {
        return runJson(2_000, 32_000);
    }

    /**
     * @param singleWriterJudgments judgments written by the lone writer
     * @param multiWriterJudgments judgments written in all by the sixteen writers
     * @return {@code {"results": [{"writers": 1, "durable_per_s": x}, {"writers": 16, ...}], "read_back_per_s": y, ...}}
     */
    public static String runJson(int singleWriterJudgments, int multiWriterJudgments) {
        try (ScratchDirectory scratch = ScratchDirectory.create("rlhf-store-bench")) {
            PreferenceStoreSettings settings = new PreferenceStoreSettings(
                    scratch.path().resolve("db"), JUDGMENTS_PER_TASK, 4096, 3, 1024, 65536, Duration.ofMinutes(30));
            JsonObject json = new JsonObject();
            JsonArray results = new JsonArray();
            long total;
            double readBackPerSecond;
            try (PreferenceStore store = PreferenceStore.open(settings)) {
                store.addPrompt(Prompt.newBuilder().setPromptId(PROMPT_ID).setText("Say something kind.").build())
                        .join();
                for (int writers : WRITER_COUNTS) {
                    int judgments = writers == 1 ? singleWriterJudgments : multiWriterJudgments;
                    prepareTasks(store, writers, judgments / writers);
                    JsonObject result = new JsonObject();
                    result.addProperty("writers", writers);
                    result.addProperty("judgments", judgments);
                    result.addProperty("durable_per_s", round(writeDurably(store, writers, judgments)));
                    results.add(result);
                }
                long start = System.nanoTime();
                total = readBack(store);
                readBackPerSecond = total / seconds(start);
            }
            json.add("results", results);
            json.addProperty("read_back_per_s", round(readBackPerSecond));
            json.addProperty("read_back_judgments", total);
            json.addProperty("sync", true);
            return json.toString();
        }
    }

    /** Creates the tasks {@link #taskId} names for this phase; not timed. */
    private static void prepareTasks(PreferenceStore store, int writers, int perWriter) {
        List<CompletableFuture<ComparisonTask>> added = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            for (int t = 0; t * JUDGMENTS_PER_TASK < perWriter; t++) {
                added.add(store.addTask(ComparisonTask.newBuilder()
                        .setTaskId(taskId(writers, w, t * JUDGMENTS_PER_TASK))
                        .setPromptId(PROMPT_ID)
                        .addCandidates(Candidate.newBuilder().setText("You are great.").setPolicyVersion("v1"))
                        .addCandidates(Candidate.newBuilder().setText("Go away.").setPolicyVersion("v2"))
                        .build()));
            }
        }
        added.forEach(CompletableFuture::join);
    }

    /** The task that writer {@code w}'s {@code i}-th judgment judges in the phase with {@code writers} writers. */
    private static String taskId(int writers, int w, int i) {
        return "task-" + writers + "-" + w + "-" + (i / JUDGMENTS_PER_TASK);
    }

    /** Durable judgments per second for {@code writers} threads, each waiting for every ack. */
    private static double writeDurably(PreferenceStore store, int writers, int judgments) {
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            int perWriter = judgments / writers;
            long start = System.nanoTime();
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String prefix = "w" + writers + "-" + w + "-";
                int writer = w;
                running.add(pool.submit(() -> {
                    for (int i = 0; i < perWriter; i++) {
                        store.submitJudgment(JudgmentSubmission.newBuilder()
                                .setJudgmentId(prefix + i)
                                .setTaskId(taskId(writers, writer, i))
                                .setAnnotatorId("annotator-" + (i % JUDGMENTS_PER_TASK))
                                .setChoice(i % 2 == 0 ? Choice.CHOICE_A : Choice.CHOICE_B)
                                .setStrength(1 + i % 3)
                                .build()).join();
                    }
                }));
            }
            for (Future<?> future : running) {
                future.get();
            }
            return perWriter * writers / seconds(start);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("benchmark interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("benchmark writer failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
    }

    private static long readBack(PreferenceStore store) {
        long after = 0;
        long count = 0;
        while (true) {
            List<Judgment> page = store.judgmentsSince(after, READ_PAGE);
            if (page.isEmpty()) {
                return count;
            }
            count += page.size();
            after = page.get(page.size() - 1).getSequence();
        }
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }


}
