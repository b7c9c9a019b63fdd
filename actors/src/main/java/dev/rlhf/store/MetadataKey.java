package dev.rlhf.store;

/** Keys of the {@link Column#METADATA} column family; every value is an 8-byte big-endian number. */
enum MetadataKey {
    /** The layout version the data was written in; see {@link SchemaMigrations}. */
    SCHEMA_VERSION("schema_version"),
    /** Sequence number of the last acknowledged judgment; 0 before the first. */
    LAST_JUDGMENT_SEQUENCE("last_judgment_sequence"),
    /** Insertion number of the last stored task; 0 before the first. */
    LAST_TASK_NUMBER("last_task_number");

    private final byte[] key;

    MetadataKey(String name) {
        this.key = Keys.id(name);
    }

    byte[] key() {
        return key.clone();
    }
}
