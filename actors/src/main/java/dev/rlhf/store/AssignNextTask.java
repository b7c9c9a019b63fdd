package dev.rlhf.store;

import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.TaskProgress;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Picks the task an annotator should judge next: a task already assigned to them and not yet
 * judged, else the oldest open task they have never seen, which is then assigned to them. Runs on
 * the writer thread, so concurrent requests never hand one task to one annotator twice.
 */
final class AssignNextTask implements StoreChange<Optional<ComparisonTask>> {

    private final String annotatorId;

    AssignNextTask(String annotatorId) {
        Keys.requireValidId(annotatorId, "annotator_id");
        this.annotatorId = annotatorId;
    }

    @Override
    public boolean scansCommittedState() {
        return true;
    }

    @Override
    public Optional<ComparisonTask> apply(ChangeScope scope) {
        Optional<String> taskId = pendingAssignment(scope);
        if (taskId.isEmpty()) {
            taskId = assignOldestUnseen(scope);
        }
        return taskId.map(id -> scope.get(Column.TASKS, Keys.id(id), ComparisonTask.parser())
                .orElseThrow(() -> new IllegalStateException("assigned task " + id + " is not stored")));
    }

    private Optional<String> pendingAssignment(ChangeScope scope) {
        AtomicReference<String> pending = new AtomicReference<>();
        scope.committed().scanPrefix(Column.ASSIGNMENTS, Keys.pairPrefix(annotatorId), (key, value) -> {
            pending.set(Keys.pairSecond(key));
            return false;
        });
        return Optional.ofNullable(pending.get());
    }

    private Optional<String> assignOldestUnseen(ChangeScope scope) {
        AtomicReference<TaskProgress> chosen = new AtomicReference<>();
        scope.committed().scan(Column.OPEN_TASKS, new byte[0], (key, value) -> {
            String taskId = Keys.numberedId(key);
            TaskProgress progress = scope.get(Column.TASK_PROGRESS, Keys.id(taskId), TaskProgress.parser())
                    .orElseThrow(() -> new IllegalStateException("open task " + taskId + " has no progress record"));
            if (progress.getAnnotatorIdsList().contains(annotatorId)) {
                return true;
            }
            chosen.set(progress);
            return false;
        });
        if (chosen.get() == null) {
            return Optional.empty();
        }
        TaskProgress progress = chosen.get();
        scope.put(Column.ASSIGNMENTS, Keys.pair(annotatorId, progress.getTaskId()), Assignment.newBuilder()
                .setTaskId(progress.getTaskId())
                .setAnnotatorId(annotatorId)
                .setAssignedAt(scope.now())
                .build());
        TaskProgressUpdate.record(scope, progress, annotatorId, false);
        return Optional.of(progress.getTaskId());
    }
}
