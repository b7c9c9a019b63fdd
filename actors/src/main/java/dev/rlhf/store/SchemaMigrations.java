package dev.rlhf.store;

import java.util.List;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The store's layout version and the ordered steps that bring an older database up to it. A step
 * and the version bump it earns are written in one synced batch, so a crash mid-migration resumes
 * at the step that was interrupted.
 */
final class SchemaMigrations {

    /** One step from {@code fromVersion()} to {@code fromVersion() + 1}. */
    interface Step {
        /** The version this step upgrades from. */
        int fromVersion();

        /** Adds the step's changes to {@code batch}, reading the old layout through {@code reader}. */
        void apply(StoreReader reader, StoreDatabase database, WriteBatch batch) throws Exception;
    }

    /**
     * Layout version written by this build. Version 1: prompts, tasks, judgments and assignments. Version 2 adds the
     * column families of annotators, their token hashes, retractions and adjudications; a build that reads only
     * version 1 would count retracted judgments, so it must refuse a version-2 database.
     */
    static final int CURRENT_VERSION = 2;

    private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrations.class);

    private final int currentVersion;
    private final List<Step> steps;

    /**
     * @param steps one per version from 1 to {@code currentVersion - 1}, in order
     * @throws IllegalArgumentException if a step is missing or out of order
     */
    SchemaMigrations(int currentVersion, List<Step> steps) {
        if (currentVersion < 1) {
            throw new IllegalArgumentException("currentVersion must be at least 1 but was: " + currentVersion);
        }
        if (steps.size() != currentVersion - 1) {
            throw new IllegalArgumentException("need " + (currentVersion - 1) + " steps to reach version "
                    + currentVersion + " but got " + steps.size());
        }
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).fromVersion() != i + 1) {
                throw new IllegalArgumentException(
                        "step " + i + " must upgrade from version " + (i + 1) + " but upgrades from "
                                + steps.get(i).fromVersion());
            }
        }
        this.currentVersion = currentVersion;
        this.steps = List.copyOf(steps);
    }

    /** This build's migrations: 1 to 2 adds the labeling column families. */
    static SchemaMigrations standard() {
        return new SchemaMigrations(CURRENT_VERSION, List.of(new LabelingFamilies()));
    }

    /**
     * Version 1 to 2: the new column families start empty, and {@link StoreDatabase#open} creates every missing
     * family of {@link Column}, so the step has nothing to write beyond the version bump.
     */
    private static final class LabelingFamilies implements Step {
        @Override
        public int fromVersion() {
            return 1;
        }

        @Override
        public void apply(StoreReader reader, StoreDatabase database, WriteBatch batch) {
            // nothing to copy: no version-1 record changes meaning, and the new families are created empty
        }
    }

    int currentVersion() {
        return currentVersion;
    }

    /**
     * Stamps a new database with the current version, or migrates an older one step by step.
     *
     * @throws SchemaVersionException if the database is newer than this build
     */
    void bringUpToDate(StoreDatabase database) {
        byte[] key = MetadataKey.SCHEMA_VERSION.key();
        int stored;
        try (StoreReader reader = StoreReader.latest(database)) {
            byte[] value = reader.get(Column.METADATA, key);
            stored = value == null ? 0 : (int) Keys.toNumber(value);
        }
        if (stored > currentVersion) {
            throw new SchemaVersionException("preference store " + database.path() + " has schema version " + stored
                    + " but this build reads at most version " + currentVersion
                    + "; open it with a newer build or restore an older checkpoint");
        }
        if (stored == 0) {
            writeVersion(database, currentVersion, batch -> {});
            return;
        }
        for (int version = stored; version < currentVersion; version++) {
            Step step = steps.get(version - 1);
            LOG.info("Migrating preference store {} from schema version {} to {}", database.path(), version,
                    version + 1);
            writeVersion(database, version + 1, batch -> {
                try (StoreReader reader = StoreReader.latest(database)) {
                    step.apply(reader, database, batch);
                }
            });
        }
    }

    private interface BatchFiller {
        void fill(WriteBatch batch) throws Exception;
    }

    private static void writeVersion(StoreDatabase database, int version, BatchFiller filler) {
        try (WriteBatch batch = new WriteBatch();
                WriteOptions sync = new WriteOptions().setSync(true)) {
            filler.fill(batch);
            batch.put(database.handle(Column.METADATA), MetadataKey.SCHEMA_VERSION.key(), Keys.number(version));
            database.write(sync, batch);
        } catch (StoreAccessException e) {
            throw e;
        } catch (Exception e) {
            throw new StoreAccessException("preference store " + database.path() + ": migration to schema version "
                    + version + " failed: " + e.getMessage(), e);
        }
    }
}
