package dev.rlhf.cli;

import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --store DIR} option of the commands that work on a preference store, and how they open it. */
final class StoreOption {

    @Option(names = "--store", paramLabel = "DIR", required = true,
            description = "The preference store's directory (a run's is RUN_DIR/preferences).")
    Path directory;

    /**
     * Opens the store with the configured settings at {@code --store}.
     *
     * @param create whether a missing directory becomes a new, empty store
     * @throws IllegalArgumentException if the directory does not exist and {@code create} is false
     * @throws dev.rlhf.store.StoreInUseException if another process has it open
     */
    PreferenceStore open(CliContext context, boolean create) {
        if (!create && !Files.isDirectory(directory)) {
            throw new IllegalArgumentException("--store: no preference store at " + directory);
        }
        return PreferenceStore.open(PreferenceStoreSettings.fromConfig(context.config()).withPath(directory));
    }
}
