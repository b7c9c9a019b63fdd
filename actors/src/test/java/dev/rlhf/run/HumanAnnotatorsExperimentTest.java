package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.store.StoreUnavailableException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tiny experiments in {@code rlhf.annotators.mode = human}, with a test thread as the person who labels through
 * the run's own open store ({@link ExperimentHandle#preferenceStore()}): a person's judgments retrain the reward
 * model; with none the run ends on reward model v1 and says so in run.log and metrics.jsonl; a run stops with a
 * checkpoint without waiting for people, and a resumed run counts the judgments given meanwhile.
 */
class HumanAnnotatorsExperimentTest {
    private static final String PERSON = "person";
    private static final int RETRAIN_AFTER = 4;

    @TempDir
    static Path shared;

    private static Path sft;

    @BeforeAll
    static void bootstrap() throws Exception {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
    }

    @Test
    void aPersonsJudgmentsGivenWhileTheRunGoesRetrainItsRewardModel(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        List<RewardModelInfo> versions = new CopyOnWriteArrayList<>();
        ExperimentHandle handle = new ExperimentRunner(humanConfig(run, 6), sft, TinyExperiments.quiet())
                .start(false, event -> {
                    if (event instanceof ExperimentCoordinator.RewardModelTrained trained) {
                        versions.add(trained.info());
                    }
                });
        PreferenceStore store = handle.preferenceStore().toCompletableFuture().get(5, TimeUnit.MINUTES);
        Person person = new Person(store);
        CompletableFuture<Void> labeling = CompletableFuture.runAsync(
                () -> person.labelUntil(() -> handle.outcome().isDone()));

        RunSummary summary = handle.await().summary().orElseThrow();
        labeling.get(1, TimeUnit.MINUTES);

        assertTrue(summary.rewardModelVersions() >= 2, "the person's judgments retrained the reward model: "
                + summary.rewardModelVersions() + " version(s), the person judged " + person.judged);
        RewardModelInfo first = versions.get(0);
        RewardModelInfo second = versions.get(1);
        long firstOfPerson = person.judged.values().stream().mapToLong(Long::longValue).min().orElseThrow();
        assertTrue(second.trainedThroughSequence() >= firstOfPerson, "v2 trained through #"
                + second.trainedThroughSequence() + ", the person's first judgment is #" + firstOfPerson);
        assertTrue(person.judged.keySet().stream().anyMatch(task -> task.startsWith("iter-")),
                "the iteration pairs went to the person: " + person.judged.keySet());
        try (PreferenceStore reopened = open(run)) {
            List<Judgment> later = reopened.judgmentsSince(first.trainedThroughSequence(), 10_000);
            assertTrue(later.stream().allMatch(j -> j.getSubmission().getAnnotatorId().equals(PERSON)),
                    "after the initial comparisons nothing simulated judges: " + annotators(later));
        }
        for (JsonObject line : TinyExperiments.deterministicMetrics(run)) {
            assertTrue(line.has("preferences/judgments_total") && line.has("preferences/judgments_pending"),
                    "every iteration reports the store's judgments: " + line.keySet());
        }
    }

    @Test
    void withoutJudgmentsTheRunEndsOnRewardModelV1AndSaysSo(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");

        RunSummary summary = new ExperimentRunner(humanConfig(run, 3), sft, TinyExperiments.quiet()).run();

        assertEquals(1, summary.rewardModelVersions(), "no judgments, no retraining");
        String log = Files.readString(run.resolve(RunLog.FILE_NAME), StandardCharsets.UTF_8);
        assertEquals(1, count(log, "reward model v1 learns from the simulated panel"), log);
        assertEquals(1, count(log, "no new judgments since the last reward-model training; going on with reward "
                + "model v1"), "said once, not at every boundary, while nothing changes: " + log);
        List<JsonObject> metrics = TinyExperiments.deterministicMetrics(run);
        assertEquals(3, metrics.size());
        double total = metrics.get(0).get("preferences/judgments_total").getAsDouble();
        for (JsonObject line : metrics) {
            assertEquals(0.0, line.get("preferences/judgments_pending").getAsDouble(), line.toString());
            assertEquals(total, line.get("preferences/judgments_total").getAsDouble(), line.toString());
        }
        try (PreferenceStore reopened = open(run)) {
            assertEquals((long) total, reopened.lastSequence(), "nothing judged the iteration pairs");
            Optional<ComparisonTask> waiting = firstIterationTask(reopened, "someone");
            assertTrue(waiting.isPresent(), "the iteration pairs wait in the labeling queue");
        }
    }

    @Test
    void aRunStopsWithoutWaitingForPeopleAndResumedCountsTheJudgmentsGivenMeanwhile(@TempDir Path dir)
            throws Exception {
        Path run = dir.resolve("run");
        ExperimentHandle first = new ExperimentRunner(humanConfig(run, 5), sft, TinyExperiments.quiet()).start(false);
        AtomicBoolean asked = new AtomicBoolean();
        first.addListener(event -> {
            if (event instanceof ExperimentCoordinator.IterationDone && asked.compareAndSet(false, true)) {
                first.stop();
            }
        });
        ExperimentRunner.Outcome stopped = first.await();
        Path checkpoint = stopped.stoppedAt().orElseThrow();
        RunCheckpoint.State state = RunCheckpoint.readState(checkpoint);
        assertEquals(-1, state.retrainingDue(), "nothing was judged, so nothing trains: " + state);
        long judgedBefore;
        try (PreferenceStore store = open(run)) {
            judgedBefore = store.lastSequence();
            Person person = new Person(store);
            for (int i = 0; i < RETRAIN_AFTER; i++) {
                assertTrue(person.judgeNext(), "the stopped run left tasks for people; judged " + person.judged);
            }
        }

        RunSummary summary = new ExperimentRunner(humanConfig(run, 5), sft, TinyExperiments.quiet()).start(true)
                .await().summary().orElseThrow();

        assertEquals(2, summary.rewardModelVersions(), "the judgments given while the run was stopped retrain it");
        RewardModelInfo second = RewardModelInfo.read(
                RewardModelCheckpoint.versionDirectory(run.resolve(ExperimentRunner.REWARD_MODELS_DIR), 2));
        assertEquals(judgedBefore + RETRAIN_AFTER, second.trainedThroughSequence(),
                "v2 trains on every judgment through the person's last");
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    /** A person labeling through the store API, as the labeling UI does: takes the next task, judges A. */
    private static final class Person {
        private final PreferenceStore store;
        /** The sequence number of each judgment, by task. */
        final Map<String, Long> judged = new java.util.concurrent.ConcurrentHashMap<>();

        Person(PreferenceStore store) {
            this.store = store;
        }

        /**
         * Judges every task the store hands out until {@code done}, waiting a little while the queue is empty;
         * returns once the run's store is closed.
         */
        void labelUntil(BooleanSupplier done) {
            try {
                while (!done.getAsBoolean()) {
                    if (!judgeNext()) {
                        Thread.sleep(20);
                    }
                }
            } catch (StoreUnavailableException e) {
                // the run ended and closed its store
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /** Judges the next task the store hands out (A is better); false when there is none. */
        boolean judgeNext() {
            try {
                Optional<ComparisonTask> task = store.nextTask(PERSON).get();
                if (task.isEmpty()) {
                    return false;
                }
                String id = task.get().getTaskId();
                long sequence = store.submitJudgment(JudgmentSubmission.newBuilder()
                        .setJudgmentId(id + "/" + PERSON)
                        .setTaskId(id)
                        .setAnnotatorId(PERSON)
                        .setChoice(Choice.CHOICE_A)
                        .build()).get().sequence();
                judged.put(id, sequence);
                return true;
            } catch (ExecutionException e) {
                if (e.getCause() instanceof StoreUnavailableException closed) {
                    throw closed;
                }
                throw new IllegalStateException("the person's store call failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
        }
    }

    private static Config humanConfig(Path run, int iterations) {
        Map<String, Object> keys = new HashMap<>(TinyExperiments.keys(run, iterations));
        keys.put("rlhf.annotators.mode", "human");
        keys.put("rlhf.experiment.iterated.retrain-after", RETRAIN_AFTER);
        return ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load());
    }

    private static PreferenceStore open(Path run) {
        return PreferenceStore.open(PreferenceStoreSettings.fromConfig(ConfigFactory.load())
                .withPath(run.resolve("preferences")));
    }

    /** The next task for {@code annotator} past the initial comparisons the panel left open (a skip leaves one). */
    private static Optional<ComparisonTask> firstIterationTask(PreferenceStore store, String annotator)
            throws Exception {
        while (true) {
            Optional<ComparisonTask> task = store.nextTask(annotator).get();
            if (task.isEmpty() || task.get().getTaskId().startsWith("iter-")) {
                return task;
            }
            String id = task.get().getTaskId();
            store.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId(id + "/" + annotator).setTaskId(id)
                    .setAnnotatorId(annotator).setChoice(Choice.CHOICE_SKIP).build()).get();
        }
    }

    private static List<String> annotators(List<Judgment> judgments) {
        return judgments.stream().map(j -> j.getSequence() + ":" + j.getSubmission().getAnnotatorId()).toList();
    }

    private static int count(String text, String phrase) {
        Matcher matcher = Pattern.compile(Pattern.quote(phrase)).matcher(text);
        int count = 0;
        while (matcher.find()) {
            count++;
        }
        return count;
    }
}
