package dev.rlhf.store;

import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.Annotator;
import dev.rlhf.proto.v1.AnnotatorSummary;
import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Disagreement;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.proto.v1.QueueState;
import dev.rlhf.proto.v1.QueueStatus;
import dev.rlhf.proto.v1.TaskProgress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The labeling views of one snapshot: an annotator's queue, the overview of annotators and queue, the tasks
 * annotators disagree on. Retracted judgments count nowhere. Each query reads the whole judgment log, so its cost
 * grows with the number of judgments.
 */
final class LabelingQueries {

    private final StoreReader reader;

    /** @param reader a snapshot reader, so that the column families read agree */
    LabelingQueries(StoreReader reader) {
        this.reader = reader;
    }

    /** Every judgment not taken back, in sequence order. */
    List<Judgment> liveJudgments() {
        List<Judgment> judgments = new ArrayList<>();
        reader.scan(Column.JUDGMENT_LOG, new byte[0], (key, judgmentId) -> {
            if (reader.get(Column.RETRACTIONS, judgmentId) == null) {
                judgments.add(reader.get(Column.JUDGMENTS, judgmentId, Judgment.parser()).orElseThrow(
                        () -> new IllegalStateException("log entry #" + Keys.toNumber(key) + " names missing judgment "
                                + Keys.printable(judgmentId))));
            }
            return true;
        });
        return judgments;
    }

    /** {@code annotatorId}'s progress: judgments at or after {@code since} and in all, and tasks left for them. */
    QueueStatus queueStatus(String annotatorId, Instant since, Duration undoWindow) {
        long judgedSince = 0;
        long judgedTotal = 0;
        for (Judgment judgment : liveJudgments()) {
            if (judgment.getSubmission().getAnnotatorId().equals(annotatorId)) {
                judgedTotal++;
                judgedSince += ProtoTime.instant(judgment.getJudgedAt()).isBefore(since) ? 0 : 1;
            }
        }
        long[] tasksLeft = {0};
        reader.scanPrefix(Column.ASSIGNMENTS, Keys.pairPrefix(annotatorId), (key, value) -> {
            tasksLeft[0] += reader.parse(Column.ASSIGNMENTS, key, value, Assignment.parser()).hasReclaimedAt() ? 0 : 1;
            return true;
        });
        reader.scan(Column.OPEN_TASKS, new byte[0], (key, value) -> {
            tasksLeft[0] += progress(Keys.numberedId(key)).getAnnotatorIdsList().contains(annotatorId) ? 0 : 1;
            return true;
        });
        return QueueStatus.newBuilder()
                .setJudgedSince(judgedSince)
                .setJudgedTotal(judgedTotal)
                .setTasksLeft(tasksLeft[0])
                .setUndoWindowMillis(undoWindow.toMillis())
                .build();
    }

    /**
     * Every registered annotator and every id that judged, by name, with their counts and pace as of {@code now},
     * and the state of the queue ({@code lease} tells a live assignment).
     */
    LabelingOverview overview(Instant now, Duration lease) {
        Map<String, List<Judgment>> byAnnotator = new TreeMap<>();
        List<Judgment> live = liveJudgments();
        live.forEach(j -> byAnnotator.computeIfAbsent(j.getSubmission().getAnnotatorId(), k -> new ArrayList<>())
                .add(j));
        Map<String, Annotator> registered = new LinkedHashMap<>();
        reader.scan(Column.ANNOTATORS, new byte[0], (key, value) -> {
            Annotator annotator = reader.parse(Column.ANNOTATORS, key, value, Annotator.parser());
            registered.put(annotator.getName(), annotator);
            byAnnotator.computeIfAbsent(annotator.getName(), k -> new ArrayList<>());
            return true;
        });
        LabelingOverview.Builder overview = LabelingOverview.newBuilder();
        byAnnotator.forEach((name, judgments) -> {
            Annotator annotator = registered.get(name);
            overview.addAnnotators(summary(name, judgments, now).toBuilder()
                    .setAdmin(annotator != null && annotator.getAdmin())
                    .setRevoked(annotator != null && annotator.hasRevokedAt()));
        });
        return overview.setQueue(queueState(now, lease, live.size())).build();
    }

    private static AnnotatorSummary summary(String name, List<Judgment> judgments, Instant now) {
        AnnotatorSummary.Builder summary = AnnotatorSummary.newBuilder().setName(name).setJudgments(judgments.size());
        Instant hourAgo = now.minus(Duration.ofHours(1));
        List<Instant> times = judgments.stream().map(j -> ProtoTime.instant(j.getJudgedAt())).sorted().toList();
        summary.setSkips(judgments.stream().filter(j -> j.getSubmission().getChoice() == Choice.CHOICE_SKIP).count());
        summary.setJudgmentsLastHour(times.stream().filter(t -> !t.isBefore(hourAgo)).count());
        if (!times.isEmpty()) {
            Instant last = times.get(times.size() - 1);
            summary.setLastJudgedAt(ProtoTime.timestamp(last));
        }
        List<Double> gaps = new ArrayList<>();
        for (int i = 1; i < times.size(); i++) {
            gaps.add(Duration.between(times.get(i - 1), times.get(i)).toNanos() / 1e9);
        }
        gaps.sort(Comparator.naturalOrder());
        if (!gaps.isEmpty()) {
            int mid = gaps.size() / 2;
            summary.setMedianSecondsBetween(gaps.size() % 2 == 1 ? gaps.get(mid) : (gaps.get(mid - 1) + gaps.get(mid)) / 2);
        }
        return summary.build();
    }

    private QueueState queueState(Instant now, Duration lease, long liveJudgments) {
        long[] counts = new long[3];
        reader.scan(Column.OPEN_TASKS, new byte[0], (key, value) -> {
            counts[0]++;
            return true;
        });
        reader.scan(Column.ASSIGNMENTS, new byte[0], (key, value) -> {
            Assignment assignment = reader.parse(Column.ASSIGNMENTS, key, value, Assignment.parser());
            counts[1] += !assignment.hasReclaimedAt() && ExpiredAssignments.expiresAt(assignment, lease).isAfter(now)
                    ? 1 : 0;
            return true;
        });
        reader.scan(Column.ADJUDICATIONS, new byte[0], (key, value) -> {
            counts[2]++;
            return true;
        });
        byte[] lastTask = reader.get(Column.METADATA, MetadataKey.LAST_TASK_NUMBER.key());
        return QueueState.newBuilder()
                .setTasks(lastTask == null ? 0 : Keys.toNumber(lastTask))
                .setOpenTasks(counts[0])
                .setActiveLeases(counts[1])
                .setJudgments(liveJudgments)
                .setAdjudicatedTasks(counts[2])
                .build();
    }

    /**
     * Up to {@code limit} tasks with at least two live, non-skip judgments whose categories on the true candidate
     * identity (and candidate pairs) differ, oldest task first; with {@code unadjudicatedOnly} those without an
     * adjudication.
     */
    List<Disagreement> disagreements(int limit, boolean unadjudicatedOnly) {
        Map<String, List<Judgment>> byTask = new LinkedHashMap<>();
        for (Judgment judgment : liveJudgments()) {
            if (judgment.getSubmission().getChoice() != Choice.CHOICE_SKIP) {
                byTask.computeIfAbsent(judgment.getSubmission().getTaskId(), k -> new ArrayList<>()).add(judgment);
            }
        }
        List<TaskProgress> disputed = new ArrayList<>();
        byTask.forEach((taskId, judgments) -> {
            Set<List<Object>> labels = new HashSet<>();
            judgments.forEach(j -> labels.add(List.of(ComparisonRatings.item(j.getSubmission()),
                    ComparisonRatings.category(j.getSubmission()))));
            boolean adjudicated = reader.get(Column.ADJUDICATIONS, Keys.id(taskId)) != null;
            if (labels.size() > 1 && !(unadjudicatedOnly && adjudicated)) {
                disputed.add(progress(taskId));
            }
        });
        return disputed.stream()
                .sorted(Comparator.comparingLong(TaskProgress::getTaskNumber))
                .limit(limit)
                .map(p -> disagreement(p.getTaskId(), byTask.get(p.getTaskId())))
                .toList();
    }

    private Disagreement disagreement(String taskId, List<Judgment> judgments) {
        ComparisonTask task = reader.get(Column.TASKS, Keys.id(taskId), ComparisonTask.parser()).orElseThrow(
                () -> new IllegalStateException("judged task " + taskId + " is not stored"));
        Disagreement.Builder disagreement = Disagreement.newBuilder().setTask(task).addAllJudgments(judgments);
        reader.get(Column.PROMPTS, Keys.id(task.getPromptId()), Prompt.parser()).ifPresent(disagreement::setPrompt);
        reader.get(Column.ADJUDICATIONS, Keys.id(taskId), Adjudication.parser()).ifPresent(disagreement::setAdjudication);
        return disagreement.build();
    }

    private TaskProgress progress(String taskId) {
        return reader.get(Column.TASK_PROGRESS, Keys.id(taskId), TaskProgress.parser())
                .orElseThrow(() -> new IllegalStateException("task " + taskId + " has no progress record"));
    }
}
