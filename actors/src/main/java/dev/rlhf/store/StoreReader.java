package dev.rlhf.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.util.Optional;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.Snapshot;

/**
 * Reads from the store, either the latest committed state or one frozen snapshot (so that reads
 * across column families agree). Owns its {@link ReadOptions} and snapshot; close it after use.
 */
final class StoreReader implements AutoCloseable {

    /** Receives scanned entries; returns false to stop the scan. */
    @FunctionalInterface
    interface Visitor {
        boolean visit(byte[] key, byte[] value);
    }

    private final StoreDatabase database;
    private final ReadOptions readOptions;
    private final Snapshot snapshot;

    private StoreReader(StoreDatabase database, ReadOptions readOptions, Snapshot snapshot) {
        this.database = database;
        this.readOptions = readOptions;
        this.snapshot = snapshot;
    }

    static StoreReader latest(StoreDatabase database) {
        return new StoreReader(database, new ReadOptions(), null);
    }

    static StoreReader snapshot(StoreDatabase database) {
        Snapshot snapshot = database.db().getSnapshot();
        return new StoreReader(database, new ReadOptions().setSnapshot(snapshot), snapshot);
    }

    /** The raw value under {@code key}, or null. */
    byte[] get(Column column, byte[] key) {
        try {
            return database.db().get(database.handle(column), readOptions, key);
        } catch (RocksDBException e) {
            throw database.accessError("read", column, key, e);
        }
    }

    /** The message under {@code key}, parsed; empty when absent. */
    <T> Optional<T> get(Column column, byte[] key, Parser<T> parser) {
        byte[] value = get(column, key);
        return value == null ? Optional.empty() : Optional.of(parse(column, key, value, parser));
    }

    <T> T parse(Column column, byte[] key, byte[] value, Parser<T> parser) {
        try {
            return parser.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            throw database.accessError("parse", column, key, e);
        }
    }

    /** Visits entries with keys at or after {@code from} in key order until the visitor returns false. */
    void scan(Column column, byte[] from, Visitor visitor) {
        try (RocksIterator it = database.db().newIterator(database.handle(column), readOptions)) {
            for (it.seek(from); it.isValid(); it.next()) {
                if (!visitor.visit(it.key(), it.value())) {
                    break;
                }
            }
            it.status();
        } catch (RocksDBException e) {
            throw database.accessError("scan", column, from, e);
        }
    }

    /** Visits the entries whose keys start with {@code prefix}. */
    void scanPrefix(Column column, byte[] prefix, Visitor visitor) {
        scan(column, prefix, (key, value) -> Keys.startsWith(key, prefix) && visitor.visit(key, value));
    }

    @Override
    public void close() {
        readOptions.close();
        if (snapshot != null) {
            database.db().releaseSnapshot(snapshot);
            snapshot.close();
        }
    }
}
