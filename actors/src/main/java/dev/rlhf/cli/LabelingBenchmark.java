package dev.rlhf.cli;

import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.store.ScratchDirectory;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Annotators labeling at once over HTTP on loopback, against what {@code rlhf label} serves: a fresh preference
 * store, PreferenceService and the labeling UI in this process. {@link #runJson} prints nothing and asserts nothing.
 */
final class LabelingBenchmark {
    private static final String PROMPT_ID = "bench-prompt";
    private static final long SEED = 1;

    /**
     * What a run did.
     *
     * @param tasks tasks the store held, each needing {@code annotationsPerTask} annotators
     * @param stored judgments in the store's log after the load
     */
    record Outcome(int annotators, int judgments, int tasks, int annotationsPerTask, LabelingLoad.Result load,
            long stored) {}

    private LabelingBenchmark() {}

    /**
     * Makes a store at {@code storeDir} (the configured settings, {@code rlhf.store.annotations-per-task} annotators
     * per task) with annotators {@code annotator-01}... and enough tasks for every judgment with some to spare, serves
     * it as {@code rlhf label} does on 127.0.0.1, runs the load and closes everything; the store stays on disk.
     *
     * @throws IOException if the servers cannot bind or an annotator cannot sign in
     */
    static Outcome run(Config config, Path storeDir, int annotators, int judgments)
            throws IOException, InterruptedException {
        if (annotators < 1) {
            throw new IllegalArgumentException("--annotators must be at least 1 but was " + annotators);
        }
        if (judgments < 1) {
            throw new IllegalArgumentException("--judgments must be at least 1 but was " + judgments);
        }
        // every annotator signs in from 127.0.0.1, which the UI's sign-in limit counts as one client
        Config served = ConfigFactory.parseString("rlhf.labeling-ui.sign-in-attempts = "
                + Math.max(annotators, config.getInt("rlhf.labeling-ui.sign-in-attempts"))).withFallback(config);
        PreferenceStoreSettings settings = PreferenceStoreSettings.fromConfig(served).withPath(storeDir);
        int perTask = Math.min(settings.annotationsPerTask(), annotators);
        // spare tasks, so no annotator runs out of work while others still hold the last open ones
        int tasks = (judgments + perTask - 1) / perTask + annotators;
        try (PreferenceStore store = PreferenceStore.open(settings)) {
            List<String> tokens = prepare(store, annotators, tasks, perTask);
            LabelingLoad.Result load;
            try (LabelingStack stack = LabelingStack.start(store, served, "127.0.0.1", 0, 0, Optional.empty())) {
                load = LabelingLoad.run(URI.create(stack.uiUrl()), tokens, judgments, SEED);
            }
            return new Outcome(annotators, judgments, tasks, perTask, load, store.lastSequence());
        }
    }

    /** Runs on a scratch store; returns one JSON object with throughput, latency percentiles and the counts. */
    static String runJson(Config config, int annotators, int judgments) throws IOException, InterruptedException {
        try (ScratchDirectory scratch = ScratchDirectory.create("rlhf-label-bench")) {
            Outcome outcome = run(config, scratch.path().resolve("preferences"), annotators, judgments);
            LabelingLoad.Result load = outcome.load();
            JsonObject json = new JsonObject();
            json.addProperty("annotators", outcome.annotators());
            json.addProperty("judgments", outcome.judgments());
            json.addProperty("tasks", outcome.tasks());
            json.addProperty("annotations_per_task", outcome.annotationsPerTask());
            json.addProperty("seconds", round(load.seconds()));
            json.addProperty("judgments_per_s", round(load.acknowledged().size() / load.seconds()));
            json.addProperty("submit_p50_ms", round(LabelingLoad.percentile(load.submitMillis(), 0.50)));
            json.addProperty("submit_p99_ms", round(LabelingLoad.percentile(load.submitMillis(), 0.99)));
            json.addProperty("next_task_p50_ms", round(LabelingLoad.percentile(load.nextTaskMillis(), 0.50)));
            json.addProperty("next_task_p99_ms", round(LabelingLoad.percentile(load.nextTaskMillis(), 0.99)));
            json.addProperty("acknowledged", load.acknowledged().size());
            json.addProperty("stored", outcome.stored());
            json.addProperty("errors", load.errors().size());
            return json.toString();
        }
    }

    /** Registers the annotators and adds the tasks; returns the annotators' tokens. */
    private static List<String> prepare(PreferenceStore store, int annotators, int tasks, int perTask) {
        store.addPrompt(Prompt.newBuilder().setPromptId(PROMPT_ID).setText("Review the hotel in one line.").build())
                .join();
        List<CompletableFuture<ComparisonTask>> added = new ArrayList<>();
        for (int t = 0; t < tasks; t++) {
            added.add(store.addTask(ComparisonTask.newBuilder()
                    .setTaskId(String.format("task-%05d", t))
                    .setPromptId(PROMPT_ID)
                    .addCandidates(Candidate.newBuilder().setText("Clean rooms and a kind staff (" + t + ")."))
                    .addCandidates(Candidate.newBuilder().setText("Noisy, and breakfast was cold (" + t + ")."))
                    .setAnnotationsNeeded(perTask)
                    .build()));
        }
        added.forEach(CompletableFuture::join);
        List<String> tokens = new ArrayList<>();
        for (int a = 1; a <= annotators; a++) {
            tokens.add(store.addAnnotator(String.format("annotator-%02d", a), false).join());
        }
        return tokens;
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }
}
