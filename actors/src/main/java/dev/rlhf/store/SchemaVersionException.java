package dev.rlhf.store;

/** The database was written by a newer build (or is damaged) and this build cannot open it safely. */
public final class SchemaVersionException extends RuntimeException {

    SchemaVersionException(String message) {
        super(message);
    }
}
