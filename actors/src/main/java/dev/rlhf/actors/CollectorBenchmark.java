package dev.rlhf.actors;

import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.ComparisonSource;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.store.ScratchDirectory;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Measures judgments per second through the {@link PreferenceCollector} actor: it runs on the tensor dispatcher
 * of an ActorSystem, over a fresh preference store in a temporary directory, with the simulated annotator panel
 * of the configuration, and is sent batches of corpus comparisons one after another (the next once the previous
 * one is answered), as the coordinator sends one batch per iteration. The first batches warm up and are not
 * timed. Prints nothing and asserts nothing; {@link #runJson} returns the JSON.
 */
public final class CollectorBenchmark {

    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";
    private static final Duration BATCH_TIMEOUT = Duration.ofMinutes(10);
    private static final long COMPARISONS_SEED = 7;

    private CollectorBenchmark() {}

    /**
     * @param config the resolved configuration: store settings ({@code rlhf.store}, its path replaced by a
     *     temporary directory), annotator panel ({@code rlhf.annotators}), tensor dispatcher
     * @param batches timed batches
     * @param comparisonsPerBatch comparisons in each batch
     * @param warmupBatches batches sent first, untimed
     * @return {@code {"judgments_per_s": x, "judgments": n, "batches": b, "comparisons_per_batch": c, ...}}
     * @throws IllegalArgumentException if a count is out of range
     */
    public static String runJson(Config config, int batches, int comparisonsPerBatch, int warmupBatches) {
        requirePositive(batches, "batches");
        requirePositive(comparisonsPerBatch, "comparisonsPerBatch");
        if (warmupBatches < 0) {
            throw new IllegalArgumentException("warmupBatches must not be negative but was: " + warmupBatches);
        }
        List<Comparison> comparisons = ComparisonSource.fromCorpus(new ReviewCorpus(),
                (warmupBatches + batches) * comparisonsPerBatch, 4, COMPARISONS_SEED);
        AnnotatorPanelSettings panel = AnnotatorPanelSettings.from(config);
        try (ScratchDirectory scratch = ScratchDirectory.create("rlhf-collector-bench");
                PreferenceStore store = PreferenceStore.open(
                PreferenceStoreSettings.fromConfig(config).withPath(scratch.path().resolve("preferences")))) {
            ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "collector-bench", config);
            try {
                ActorRef<PreferenceCollector.Command> collector = system.systemActorOf(
                        PreferenceCollector.create(new PreferenceLoop(store, new SimulatedAnnotatorPanel(panel))),
                        "preference-collector", DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
                for (int b = 0; b < warmupBatches; b++) {
                    collect(system, collector, "warmup-" + b, batch(comparisons, b, comparisonsPerBatch));
                }
                long judgments = 0;
                long lastSequence = -1;
                long start = System.nanoTime();
                for (int b = 0; b < batches; b++) {
                    PreferenceCollector.Collected collected = collect(system, collector, "batch-" + b,
                            batch(comparisons, warmupBatches + b, comparisonsPerBatch));
                    judgments += collected.newJudgments();
                    lastSequence = collected.lastSequence();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                JsonObject json = new JsonObject();
                json.addProperty("judgments_per_s", round(judgments / seconds));
                json.addProperty("judgments", judgments);
                json.addProperty("batches", batches);
                json.addProperty("comparisons_per_batch", comparisonsPerBatch);
                json.addProperty("seconds", round(seconds));
                json.addProperty("warmup_batches", warmupBatches);
                json.addProperty("annotators", panel.annotators().size());
                json.addProperty("last_sequence", lastSequence);
                json.addProperty("sync", true);
                return json.toString();
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().join();
            }
        }
    }

    /** Sends one Collect and waits for its answer. */
    private static PreferenceCollector.Collected collect(ActorSystem<?> system,
            ActorRef<PreferenceCollector.Command> collector, String batchId, List<Comparison> comparisons) {
        return AskPattern.<PreferenceCollector.Command, PreferenceCollector.Collected>askWithStatus(collector,
                replyTo -> new PreferenceCollector.Collect(batchId, comparisons, "v1", replyTo),
                BATCH_TIMEOUT, system.scheduler()).toCompletableFuture().join();
    }

    private static List<Comparison> batch(List<Comparison> comparisons, int index, int size) {
        return comparisons.subList(index * size, (index + 1) * size);
    }

    private static void requirePositive(int value, String name) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be positive but was: " + value);
        }
    }

    private static double round(double value) {
        return Math.round(value * 10) / 10.0;
    }


}
