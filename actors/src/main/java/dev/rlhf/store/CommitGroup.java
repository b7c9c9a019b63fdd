package dev.rlhf.store;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The accepted changes the writer thread merges into one synced WriteBatch: their writes (the last
 * write of a cell wins), the counters they advanced, and how to tell each caller once durable.
 */
final class CommitGroup {

    private final Map<ChangeScope.Cell, ChangeScope.Write> writes = new LinkedHashMap<>();
    private final List<Runnable> onDurable = new ArrayList<>();
    private final List<Consumer<Throwable>> onFailure = new ArrayList<>();
    private final long firstJudgmentSequence;
    private final long firstTaskNumber;
    private long lastJudgmentSequence;
    private long lastTaskNumber;

    CommitGroup(long lastJudgmentSequence, long lastTaskNumber) {
        this.firstJudgmentSequence = lastJudgmentSequence;
        this.firstTaskNumber = lastTaskNumber;
        this.lastJudgmentSequence = lastJudgmentSequence;
        this.lastTaskNumber = lastTaskNumber;
    }

    ChangeScope.Write staged(ChangeScope.Cell cell) {
        return writes.get(cell);
    }

    /** Takes over an accepted change's writes and counters, and its caller's callbacks. */
    void accept(ChangeScope scope, Runnable whenDurable, Consumer<Throwable> whenFailed) {
        writes.putAll(scope.staged());
        lastJudgmentSequence += scope.judgmentSequencesTaken();
        lastTaskNumber += scope.taskNumbersTaken();
        onDurable.add(whenDurable);
        onFailure.add(whenFailed);
    }

    boolean isEmpty() {
        return onDurable.isEmpty();
    }

    Map<ChangeScope.Cell, ChangeScope.Write> writes() {
        return writes;
    }

    long lastJudgmentSequence() {
        return lastJudgmentSequence;
    }

    long lastTaskNumber() {
        return lastTaskNumber;
    }

    boolean advancedJudgmentSequence() {
        return lastJudgmentSequence != firstJudgmentSequence;
    }

    boolean advancedTaskNumber() {
        return lastTaskNumber != firstTaskNumber;
    }

    void completeDurable() {
        onDurable.forEach(Runnable::run);
    }

    void completeFailed(Throwable cause) {
        onFailure.forEach(callback -> callback.accept(cause));
    }
}
