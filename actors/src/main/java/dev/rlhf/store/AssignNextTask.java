package dev.rlhf.store;

import dev.rlhf.proto.v1.ComparisonTask;
import java.time.Duration;
import java.util.Optional;

/**
 * Picks the task an annotator should judge next: a task already assigned to them and not yet
 * judged whose lease holds (the oldest, should {@link AssignNextTasks} have assigned them several), else
 * the oldest open task they have never seen (or whose lease on it ran out), which is then assigned to them. Runs on the writer thread, so
 * concurrent requests never hand one task to one annotator twice.
 */
final class AssignNextTask implements StoreChange<Optional<ComparisonTask>> {

    /** The same selection, one task deep, so the two can never disagree on the order. */
    private final AssignNextTasks first;

    AssignNextTask(String annotatorId, Duration lease) {
        this.first = new AssignNextTasks(annotatorId, 1, lease);
    }

    @Override
    public boolean scansCommittedState() {
        return true;
    }

    @Override
    public Optional<ComparisonTask> apply(ChangeScope scope) {
        return first.apply(scope).stream().findFirst();
    }
}
