package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The labeling bench's load, at full size, checked for correctness only (never a time): 20 annotators over loopback
 * HTTP give 2,000 judgments, and the store holds each acknowledged one exactly once, no task gets more annotators than
 * it needs, and no annotator judges a task twice.
 */
class LabelingLoadTest {
    private static final int ANNOTATORS = 20;
    private static final int JUDGMENTS = 2_000;

    @TempDir Path dir;

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void twentyAnnotatorsGiveTwoThousandJudgmentsAndTheStoreHoldsEachAcknowledgedOneExactlyOnce() throws Exception {
        Path storeDir = dir.resolve("preferences");

        LabelingBenchmark.Outcome outcome = LabelingBenchmark.run(CliContext.load().config(), storeDir, ANNOTATORS,
                JUDGMENTS);
        LabelingLoad.Result load = outcome.load();
        System.out.printf("label load: %d judgments in %.1f s; submit p50 %.1f ms p99 %.1f ms; next task p50 %.1f ms"
                        + " p99 %.1f ms%n", load.acknowledged().size(), load.seconds(),
                LabelingLoad.percentile(load.submitMillis(), 0.5), LabelingLoad.percentile(load.submitMillis(), 0.99),
                LabelingLoad.percentile(load.nextTaskMillis(), 0.5),
                LabelingLoad.percentile(load.nextTaskMillis(), 0.99));

        assertEquals(List.of(), load.errors(), "no request failed");
        assertEquals(JUDGMENTS, load.acknowledged().size(), "every judgment was acknowledged");
        try (PreferenceStore store = PreferenceStore.open(PreferenceStoreSettings.fromConfig(
                CliContext.load().config()).withPath(storeDir))) {
            List<Judgment> log = store.judgmentsSince(0, (int) store.lastSequence() + 1);
            Map<String, List<Judgment>> byId = log.stream()
                    .collect(Collectors.groupingBy(j -> j.getSubmission().getJudgmentId()));
            for (LabelingLoad.Ack ack : load.acknowledged()) {
                List<Judgment> stored = byId.getOrDefault(ack.judgmentId(), List.of());
                assertEquals(1, stored.size(), "acknowledged judgment " + ack + " is stored exactly once");
                Judgment judgment = stored.get(0);
                assertEquals(ack.annotator(), judgment.getSubmission().getAnnotatorId(), "annotator of " + ack);
                assertEquals(ack.taskId(), judgment.getSubmission().getTaskId(), "task of " + ack);
                assertEquals(ack.sequence(), judgment.getSequence(), "sequence of " + ack);
            }
            assertEquals(JUDGMENTS, log.size(), "the store holds the acknowledged judgments and nothing else");
            assertEquals(ackCounts(load.acknowledged()), new TreeMap<>(store.judgmentCountsByAnnotator()),
                    "judgments per annotator");

            Set<String> taskAndAnnotator = new HashSet<>();
            Map<String, Set<String>> annotatorsByTask = new HashMap<>();
            for (Judgment j : log) {
                String task = j.getSubmission().getTaskId();
                String annotator = j.getSubmission().getAnnotatorId();
                assertTrue(taskAndAnnotator.add(task + "/" + annotator), annotator + " judged " + task + " twice");
                annotatorsByTask.computeIfAbsent(task, t -> new HashSet<>()).add(annotator);
            }
            annotatorsByTask.forEach((task, annotators) -> {
                int needed = store.task(task).orElseThrow().getAnnotationsNeeded();
                assertTrue(annotators.size() <= needed,
                        task + " needs " + needed + " annotators but was judged by " + annotators);
            });
            assertEquals(outcome.annotationsPerTask(), annotatorsByTask.values().stream().mapToInt(Set::size).max()
                    .orElseThrow(), "tasks filled up to their annotators per task");
            assertEquals(List.of(), store.integrityProblems());
        }
    }

    private static Map<String, Long> ackCounts(List<LabelingLoad.Ack> acks) {
        return new TreeMap<>(acks.stream().collect(Collectors.groupingBy(LabelingLoad.Ack::annotator,
                Collectors.counting())));
    }
}
