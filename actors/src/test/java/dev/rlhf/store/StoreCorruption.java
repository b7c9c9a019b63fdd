package dev.rlhf.store;

import java.nio.file.Path;
import org.rocksdb.RocksDBException;

/** Breaks records of a closed store on purpose, so that tests can see how its readers fail. Public for other packages. */
public final class StoreCorruption {

    private StoreCorruption() {}

    /** Overwrites the stored prompt {@code promptId} of the closed store at {@code path} with bytes that do not parse. */
    public static void corruptPrompt(Path path, String promptId) throws RocksDBException {
        try (StoreDatabase database = StoreDatabase.open(path)) {
            database.db().put(database.handle(Column.PROMPTS), Keys.id(promptId), new byte[] {(byte) 0xff, 0x01});
        }
    }
}
