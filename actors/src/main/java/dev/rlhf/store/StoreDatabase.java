package dev.rlhf.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The open RocksDB database with one column family per {@link Column}, handles resolved once at
 * open. Owns the database, its options and its handles and closes them all.
 */
final class StoreDatabase implements AutoCloseable {

    static {
        RocksDB.loadLibrary();
    }

    private final Path path;
    private final DBOptions dbOptions;
    private final ColumnFamilyOptions columnOptions;
    private final RocksDB db;
    private final List<ColumnFamilyHandle> allHandles;
    private final Map<Column, ColumnFamilyHandle> handles;

    private StoreDatabase(
            Path path,
            DBOptions dbOptions,
            ColumnFamilyOptions columnOptions,
            RocksDB db,
            List<ColumnFamilyHandle> allHandles,
            Map<Column, ColumnFamilyHandle> handles) {
        this.path = path;
        this.dbOptions = dbOptions;
        this.columnOptions = columnOptions;
        this.db = db;
        this.allHandles = allHandles;
        this.handles = handles;
    }

    /**
     * Opens (creating if missing) the database at {@code path} with every {@link Column}. Column
     * families this build does not know (written by a newer one) are opened too, so the schema
     * check can report the version instead of RocksDB refusing to open.
     */
    static StoreDatabase open(Path path) {
        try {
            Files.createDirectories(path);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create preference store directory " + path, e);
        }
        DBOptions dbOptions = new DBOptions()
                .setCreateIfMissing(true)
                .setCreateMissingColumnFamilies(true)
                .setKeepLogFileNum(3);
        ColumnFamilyOptions columnOptions = new ColumnFamilyOptions();
        List<ColumnFamilyHandle> allHandles = new ArrayList<>();
        RocksDB db = null;
        try {
            List<ColumnFamilyDescriptor> descriptors = descriptors(path, columnOptions);
            db = RocksDB.open(dbOptions, path.toString(), descriptors, allHandles);
            Map<Column, ColumnFamilyHandle> handles = new EnumMap<>(Column.class);
            for (int i = 0; i < descriptors.size(); i++) {
                String name = new String(descriptors.get(i).getName(), StandardCharsets.UTF_8);
                for (Column column : Column.values()) {
                    if (column.familyName().equals(name)) {
                        handles.put(column, allHandles.get(i));
                    }
                }
            }
            return new StoreDatabase(path, dbOptions, columnOptions, db, allHandles, handles);
        } catch (RocksDBException | RuntimeException e) {
            allHandles.forEach(ColumnFamilyHandle::close);
            if (db != null) {
                db.close();
            }
            columnOptions.close();
            dbOptions.close();
            if (e instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (isLockHeld((RocksDBException) e)) {
                throw new StoreInUseException("preference store " + path + " is open in another process (an `rlhf label`"
                        + " or an experiment?); use the admin page of that `rlhf label`, or stop it first", e);
            }
            throw new StoreAccessException("cannot open preference store at " + path + ": " + e.getMessage(), e);
        }
    }

    /** RocksDB's answer when another handle holds the database's LOCK file (flock). */
    private static boolean isLockHeld(RocksDBException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("LOCK") && (message.contains("Resource temporarily unavailable")
                || message.contains("lock hold by current process") || message.contains("No locks available"));
    }

    private static List<ColumnFamilyDescriptor> descriptors(Path path, ColumnFamilyOptions columnOptions)
            throws RocksDBException {
        List<byte[]> names = new ArrayList<>();
        names.add(RocksDB.DEFAULT_COLUMN_FAMILY);
        for (Column column : Column.values()) {
            names.add(column.familyName().getBytes(StandardCharsets.UTF_8));
        }
        if (!Files.exists(path.resolve("CURRENT"))) {
            return descriptorsFor(names, columnOptions);
        }
        try (Options options = new Options()) {
            for (byte[] existing : RocksDB.listColumnFamilies(options, path.toString())) {
                if (names.stream().noneMatch(n -> Arrays.equals(n, existing))) {
                    names.add(existing);
                }
            }
        }
        return descriptorsFor(names, columnOptions);
    }

    private static List<ColumnFamilyDescriptor> descriptorsFor(List<byte[]> names, ColumnFamilyOptions options) {
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        for (byte[] name : names) {
            descriptors.add(new ColumnFamilyDescriptor(name, options));
        }
        return descriptors;
    }

    RocksDB db() {
        return db;
    }

    Path path() {
        return path;
    }

    ColumnFamilyHandle handle(Column column) {
        return handles.get(column);
    }

    /** Writes {@code batch} atomically; with a syncing {@code options} it is durable on return. */
    void write(WriteOptions options, WriteBatch batch) {
        try {
            db.write(options, batch);
        } catch (RocksDBException e) {
            throw new StoreAccessException(
                    "preference store " + path + ": write of " + batch.count() + " entries failed: " + e.getMessage(),
                    e);
        }
    }

    /** Writes a consistent copy of the database to {@code target}, which must not exist yet. */
    void checkpoint(Path target) {
        try (Checkpoint checkpoint = Checkpoint.create(db)) {
            checkpoint.createCheckpoint(target.toString());
        } catch (RocksDBException e) {
            throw new StoreAccessException(
                    "preference store " + path + ": checkpoint to " + target + " failed: " + e.getMessage(), e);
        }
    }

    StoreAccessException accessError(String action, Column column, byte[] key, Exception cause) {
        return new StoreAccessException(
                "preference store " + path + ", column family " + column.familyName() + ", key "
                        + Keys.printable(key) + ": " + action + " failed: " + cause.getMessage(),
                cause);
    }

    @Override
    public void close() {
        allHandles.forEach(ColumnFamilyHandle::close);
        db.close();
        columnOptions.close();
        dbOptions.close();
    }
}
