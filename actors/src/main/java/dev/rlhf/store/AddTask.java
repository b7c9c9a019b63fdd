package dev.rlhf.store;

import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.TaskProgress;

/**
 * Stores a comparison task and opens it for assignment; storing the same task again is a no-op, a
 * different one under its id is rejected.
 */
final class AddTask implements StoreChange<ComparisonTask> {

    private final ComparisonTask task;
    private final int defaultAnnotationsNeeded;

    AddTask(ComparisonTask task, int defaultAnnotationsNeeded) {
        Keys.requireValidId(task.getTaskId(), "task_id");
        Keys.requireValidId(task.getPromptId(), "prompt_id");
        if (task.getCandidatesCount() < 2) {
            throw new ChangeRejectedException(RejectionReason.INVALID_TASK, "candidates",
                    "task " + task.getTaskId() + " needs at least 2 candidates but has " + task.getCandidatesCount());
        }
        if (task.getAnnotationsNeeded() < 0) {
            throw new ChangeRejectedException(RejectionReason.INVALID_TASK, "annotations_needed",
                    "annotations_needed must not be negative but was " + task.getAnnotationsNeeded());
        }
        this.task = task.toBuilder().clearCreatedAt().build();
        this.defaultAnnotationsNeeded = defaultAnnotationsNeeded;
    }

    @Override
    public ComparisonTask apply(ChangeScope scope) {
        byte[] key = Keys.id(task.getTaskId());
        var existing = scope.get(Column.TASKS, key, ComparisonTask.parser());
        if (existing.isPresent()) {
            if (!existing.get().toBuilder().clearCreatedAt().build().equals(task)) {
                throw new ChangeRejectedException(RejectionReason.ID_CONFLICT, "task_id",
                        "task " + task.getTaskId() + " is already stored with different content");
            }
            return existing.get();
        }
        if (scope.get(Column.PROMPTS, Keys.id(task.getPromptId())) == null) {
            throw new ChangeRejectedException(RejectionReason.UNKNOWN_PROMPT, "prompt_id",
                    "task " + task.getTaskId() + " names prompt " + task.getPromptId() + ", which is not stored");
        }
        ComparisonTask stored = task.toBuilder().setCreatedAt(scope.now()).build();
        long taskNumber = scope.nextTaskNumber();
        int needed = task.getAnnotationsNeeded() > 0 ? task.getAnnotationsNeeded() : defaultAnnotationsNeeded;
        scope.put(Column.TASKS, key, stored);
        scope.put(Column.TASK_PROGRESS, key, TaskProgress.newBuilder()
                .setTaskId(task.getTaskId())
                .setTaskNumber(taskNumber)
                .setAnnotationsNeeded(needed)
                .build());
        scope.put(Column.OPEN_TASKS, Keys.numbered(taskNumber, task.getTaskId()), new byte[0]);
        return stored;
    }
}
