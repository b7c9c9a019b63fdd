package dev.rlhf.store;

import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.TaskProgress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Picks up to {@code limit} tasks an annotator should judge next, in the order {@link AssignNextTask}
 * would hand them out one at a time if the annotator judged each before asking again: first the tasks
 * already assigned to them and not yet judged (those whose judgment they took back first, then oldest
 * first), then the oldest open tasks they have
 * never seen, all of which this one change assigns to them. Judging one of their tasks never opens
 * another task to them, so the order cannot depend on when they judge.
 *
 * <p>First, though, it reclaims every lease older than {@code lease} ({@link ExpiredAssignments}): those
 * tasks count as open again, for this annotator too. Leases that have not run out change nothing, so an
 * annotator who judges what they are given within the lease sees the order above.
 */
final class AssignNextTasks implements StoreChange<List<ComparisonTask>> {

    private final String annotatorId;
    private final int limit;
    private final Duration lease;

    /** @throws IllegalArgumentException if {@code limit} is not positive */
    AssignNextTasks(String annotatorId, int limit, Duration lease) {
        Keys.requireValidId(annotatorId, "annotator_id");
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive but was: " + limit);
        }
        this.annotatorId = annotatorId;
        this.limit = limit;
        this.lease = lease;
    }

    @Override
    public boolean scansCommittedState() {
        return true;
    }

    @Override
    public List<ComparisonTask> apply(ChangeScope scope) {
        Set<String> reopened = ExpiredAssignments.reclaim(scope, lease);
        List<String> taskIds = pendingAssignments(scope);
        if (taskIds.size() < limit) {
            taskIds.addAll(assignOldestUnseen(scope, limit - taskIds.size(), reopened));
        }
        return taskIds.stream()
                .map(id -> scope.get(Column.TASKS, Keys.id(id), ComparisonTask.parser())
                        .orElseThrow(() -> new IllegalStateException("assigned task " + id + " is not stored")))
                .toList();
    }

    /**
     * The annotator's unjudged assignments whose leases hold: those they hold again after taking their judgment back
     * first, then oldest task first (assignments are keyed by task id, and only the task number says which task came
     * first).
     */
    private List<String> pendingAssignments(ChangeScope scope) {
        List<TaskProgress> retracted = new ArrayList<>();
        List<TaskProgress> pending = new ArrayList<>();
        scope.committed().scanPrefix(Column.ASSIGNMENTS, Keys.pairPrefix(annotatorId), (key, value) -> {
            // read through the scope: a lease reclaimed by this change is no longer pending
            scope.get(Column.ASSIGNMENTS, key, Assignment.parser()).filter(a -> !a.hasReclaimedAt()).ifPresent(a ->
                    (a.getRetracted() ? retracted : pending).add(progress(scope, Keys.pairSecond(key), "assigned")));
            return true;
        });
        Comparator<TaskProgress> oldestFirst = Comparator.comparingLong(TaskProgress::getTaskNumber);
        retracted.sort(oldestFirst);
        pending.sort(oldestFirst);
        retracted.addAll(pending);
        return retracted.stream()
                .limit(limit)
                .map(TaskProgress::getTaskId)
                .collect(ArrayList::new, ArrayList::add, ArrayList::addAll);
    }

    /**
     * The oldest open tasks the annotator has not seen: those of the committed open-task index, and those
     * {@code reopened} by this change (which a scan of committed data does not see), merged by task number.
     */
    private List<String> assignOldestUnseen(ChangeScope scope, int count, Set<String> reopened) {
        Map<String, TaskProgress> unseen = new LinkedHashMap<>();
        scope.committed().scan(Column.OPEN_TASKS, new byte[0], (key, value) -> {
            TaskProgress progress = progress(scope, Keys.numberedId(key), "open");
            if (!progress.getAnnotatorIdsList().contains(annotatorId)) {
                unseen.put(progress.getTaskId(), progress);
            }
            return unseen.size() < count;
        });
        for (String taskId : reopened) {
            TaskProgress progress = progress(scope, taskId, "reopened");
            if (TaskProgressUpdate.isOpen(progress) && !progress.getAnnotatorIdsList().contains(annotatorId)) {
                unseen.putIfAbsent(taskId, progress);
            }
        }
        List<TaskProgress> chosen = unseen.values().stream()
                .sorted(Comparator.comparingLong(TaskProgress::getTaskNumber))
                .limit(count)
                .toList();
        List<String> assigned = new ArrayList<>(chosen.size());
        for (TaskProgress progress : chosen) {
            scope.put(Column.ASSIGNMENTS, Keys.pair(annotatorId, progress.getTaskId()), Assignment.newBuilder()
                    .setTaskId(progress.getTaskId())
                    .setAnnotatorId(annotatorId)
                    .setAssignedAt(scope.now())
                    .build());
            TaskProgressUpdate.record(scope, progress, annotatorId, false);
            assigned.add(progress.getTaskId());
        }
        return assigned;
    }

    private static TaskProgress progress(ChangeScope scope, String taskId, String kind) {
        return scope.get(Column.TASK_PROGRESS, Keys.id(taskId), TaskProgress.parser())
                .orElseThrow(() -> new IllegalStateException(kind + " task " + taskId + " has no progress record"));
    }
}
