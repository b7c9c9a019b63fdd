package dev.rlhf.store;

/**
 * The store's directory is locked by another open store: RocksDB lets one process (and one handle in it) open a
 * database at a time. The message names the directory and what to do.
 */
public final class StoreInUseException extends RuntimeException {

    StoreInUseException(String message, Throwable cause) {
        super(message, cause);
    }
}
