package dev.rlhf.store;

import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.TaskProgress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Picks up to {@code limit} tasks an annotator should judge next, in the order {@link AssignNextTask}
 * would hand them out one at a time if the annotator judged each before asking again: first the tasks
 * already assigned to them and not yet judged, oldest first, then the oldest open tasks they have
 * never seen, all of which this one change assigns to them. Judging one of their tasks never opens
 * another task to them, so the order cannot depend on when they judge.
 */
final class AssignNextTasks implements StoreChange<List<ComparisonTask>> {

    private final String annotatorId;
    private final int limit;

    /** @throws IllegalArgumentException if {@code limit} is not positive */
    AssignNextTasks(String annotatorId, int limit) {
        Keys.requireValidId(annotatorId, "annotator_id");
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive but was: " + limit);
        }
        this.annotatorId = annotatorId;
        this.limit = limit;
    }

    @Override
    public boolean scansCommittedState() {
        return true;
    }

    @Override
    public List<ComparisonTask> apply(ChangeScope scope) {
        List<String> taskIds = pendingAssignments(scope);
        if (taskIds.size() < limit) {
            taskIds.addAll(assignOldestUnseen(scope, limit - taskIds.size()));
        }
        return taskIds.stream()
                .map(id -> scope.get(Column.TASKS, Keys.id(id), ComparisonTask.parser())
                        .orElseThrow(() -> new IllegalStateException("assigned task " + id + " is not stored")))
                .toList();
    }

    /**
     * The annotator's unjudged assignments, oldest task first: assignments are keyed by task id, and
     * only the task number says which task came first.
     */
    private List<String> pendingAssignments(ChangeScope scope) {
        List<TaskProgress> pending = new ArrayList<>();
        scope.committed().scanPrefix(Column.ASSIGNMENTS, Keys.pairPrefix(annotatorId), (key, value) -> {
            String taskId = Keys.pairSecond(key);
            pending.add(progress(scope, taskId, "assigned"));
            return true;
        });
        return pending.stream()
                .sorted(Comparator.comparingLong(TaskProgress::getTaskNumber))
                .limit(limit)
                .map(TaskProgress::getTaskId)
                .collect(ArrayList::new, ArrayList::add, ArrayList::addAll);
    }

    private List<String> assignOldestUnseen(ChangeScope scope, int count) {
        List<TaskProgress> chosen = new ArrayList<>();
        scope.committed().scan(Column.OPEN_TASKS, new byte[0], (key, value) -> {
            TaskProgress progress = progress(scope, Keys.numberedId(key), "open");
            if (!progress.getAnnotatorIdsList().contains(annotatorId)) {
                chosen.add(progress);
            }
            return chosen.size() < count;
        });
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
