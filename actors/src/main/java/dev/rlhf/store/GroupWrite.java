package dev.rlhf.store;

import org.rocksdb.WriteBatch;

/**
 * The last step of a group commit: writing the group's batch so that it is durable on return. The writer thread
 * acknowledges the group's changes only after it returns.
 */
@FunctionalInterface
interface GroupWrite {

    /** @throws StoreAccessException if RocksDB refuses the write; nothing of the batch is then stored */
    void write(WriteBatch batch);
}
