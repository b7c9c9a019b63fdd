package dev.rlhf.store;

import dev.rlhf.proto.v1.TaskProgress;

/**
 * Records that an annotator saw a task (was assigned it, or judged it unassigned, or skipped it)
 * and keeps the task in {@link Column#OPEN_TASKS} exactly while it needs more annotators.
 */
final class TaskProgressUpdate {

    private TaskProgressUpdate() {}

    /** Adds {@code annotatorId} to the task's annotators unless present; counts a skip if {@code skipped}. */
    static TaskProgress record(ChangeScope scope, TaskProgress progress, String annotatorId, boolean skipped) {
        TaskProgress.Builder updated = progress.toBuilder();
        if (!progress.getAnnotatorIdsList().contains(annotatorId)) {
            updated.addAnnotatorIds(annotatorId);
        }
        if (skipped) {
            updated.setSkips(progress.getSkips() + 1);
        }
        return stored(scope, updated.build());
    }

    /** Removes {@code annotatorId} from the task's annotators (their lease ran out), reopening the task if it now needs one. */
    static TaskProgress release(ChangeScope scope, TaskProgress progress, String annotatorId) {
        TaskProgress.Builder updated = progress.toBuilder().clearAnnotatorIds();
        progress.getAnnotatorIdsList().stream().filter(id -> !id.equals(annotatorId)).forEach(updated::addAnnotatorIds);
        TaskProgress next = updated.build();
        scope.put(Column.TASK_PROGRESS, Keys.id(next.getTaskId()), next);
        if (isOpen(next)) {
            scope.put(Column.OPEN_TASKS, Keys.numbered(next.getTaskNumber(), next.getTaskId()), new byte[0]);
        }
        return next;
    }

    /**
     * Takes back a judgment's effect on its task for a fresh lease: {@code annotatorId} stays among its annotators
     * (now holding a lease), and a retracted skip is no longer counted.
     */
    static TaskProgress retract(ChangeScope scope, TaskProgress progress, String annotatorId, boolean wasSkip) {
        TaskProgress.Builder updated = progress.toBuilder();
        if (!progress.getAnnotatorIdsList().contains(annotatorId)) {
            updated.addAnnotatorIds(annotatorId);
        }
        if (wasSkip) {
            updated.setSkips(progress.getSkips() - 1);
        }
        return stored(scope, updated.build());
    }

    /** Stages {@code next} and keeps the task in the open-task index exactly while it is open. */
    private static TaskProgress stored(ChangeScope scope, TaskProgress next) {
        scope.put(Column.TASK_PROGRESS, Keys.id(next.getTaskId()), next);
        byte[] openKey = Keys.numbered(next.getTaskNumber(), next.getTaskId());
        if (isOpen(next)) {
            scope.put(Column.OPEN_TASKS, openKey, new byte[0]);
        } else {
            scope.delete(Column.OPEN_TASKS, openKey);
        }
        return next;
    }

    /** Whether the task still needs annotators: skips do not count towards the annotations needed. */
    static boolean isOpen(TaskProgress progress) {
        return progress.getAnnotatorIdsCount() - progress.getSkips() < progress.getAnnotationsNeeded();
    }
}
