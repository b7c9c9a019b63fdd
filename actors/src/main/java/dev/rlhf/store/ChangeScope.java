package dev.rlhf.store;

import com.google.protobuf.MessageLite;
import com.google.protobuf.Parser;
import com.google.protobuf.Timestamp;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What one {@link StoreChange} sees and writes: point reads see its own staged writes, then those of
 * earlier changes in the same commit group, then the database. Its writes reach the group only if
 * the change completes without being rejected.
 */
final class ChangeScope {

    /** A column family and key; ByteBuffer equality compares the bytes. */
    record Cell(Column column, ByteBuffer key) {
        static Cell of(Column column, byte[] key) {
            return new Cell(column, ByteBuffer.wrap(key));
        }
    }

    /** A staged put, or a delete when {@code value} is null. */
    record Write(byte[] value) {}

    private final CommitGroup group;
    private final StoreReader committed;
    private final Instant now;
    private final Map<Cell, Write> staged = new LinkedHashMap<>();
    private int judgmentSequencesTaken;
    private int taskNumbersTaken;

    ChangeScope(CommitGroup group, StoreReader committed, Instant now) {
        this.group = group;
        this.committed = committed;
        this.now = now;
    }

    /** The raw value under {@code key} as this change sees it, or null. */
    byte[] get(Column column, byte[] key) {
        Cell cell = Cell.of(column, key);
        Write write = staged.get(cell);
        if (write == null) {
            write = group.staged(cell);
        }
        return write != null ? write.value() : committed.get(column, key);
    }

    <T> Optional<T> get(Column column, byte[] key, Parser<T> parser) {
        byte[] value = get(column, key);
        return value == null ? Optional.empty() : Optional.of(committed.parse(column, key, value, parser));
    }

    /** Committed data only, for scans; see {@link StoreChange#scansCommittedState()}. */
    StoreReader committed() {
        return committed;
    }

    void put(Column column, byte[] key, byte[] value) {
        staged.put(Cell.of(column, key), new Write(value));
    }

    void put(Column column, byte[] key, MessageLite message) {
        put(column, key, message.toByteArray());
    }

    void delete(Column column, byte[] key) {
        staged.put(Cell.of(column, key), new Write(null));
    }

    /** The next judgment sequence number; consumed only if this change is accepted. */
    long nextJudgmentSequence() {
        judgmentSequencesTaken++;
        return group.lastJudgmentSequence() + judgmentSequencesTaken;
    }

    /** The next task insertion number; consumed only if this change is accepted. */
    long nextTaskNumber() {
        taskNumbersTaken++;
        return group.lastTaskNumber() + taskNumbersTaken;
    }

    /** The writer's clock reading for this change. */
    Timestamp now() {
        return ProtoTime.timestamp(now);
    }

    /** The writer's clock reading for this change, as an instant. */
    Instant instant() {
        return now;
    }

    Map<Cell, Write> staged() {
        return staged;
    }

    int judgmentSequencesTaken() {
        return judgmentSequencesTaken;
    }

    int taskNumbersTaken() {
        return taskNumbersTaken;
    }
}
