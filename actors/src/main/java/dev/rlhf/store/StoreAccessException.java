package dev.rlhf.store;

/** RocksDB failed to read or write; the message names the store, the column family and the key. */
public final class StoreAccessException extends RuntimeException {

    StoreAccessException(String message, Throwable cause) {
        super(message, cause);
    }
}
