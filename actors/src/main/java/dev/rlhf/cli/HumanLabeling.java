package dev.rlhf.cli;

import com.typesafe.config.Config;
import dev.rlhf.labeling.LabelingUiSettings;
import dev.rlhf.proto.v1.Annotator;
import dev.rlhf.run.ExperimentHandle;
import dev.rlhf.store.PreferenceStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletionException;

/**
 * The labeling UI beside a running experiment whose annotators are people: serves the run's own open store (RocksDB
 * lets one process open it) and shows its metrics on the dashboard.
 */
final class HumanLabeling {
    /** The annotator a fresh run's store gets, whose token is printed. */
    static final String FIRST_ANNOTATOR = "annotator-1";

    private HumanLabeling() {}

    /**
     * Serves the labeling UI over the run's store once it is open, and prints the UI's address and, for a store that
     * has none yet, an admin's and an annotator's tokens. A run that fails before its store opens serves nothing
     * (its outcome says why).
     *
     * @return what stops the UI and PreferenceService; close it once the run's outcome is in
     */
    static AutoCloseable serve(ExperimentHandle handle, Config config, Path runDir, PrintStream out) throws Exception {
        PreferenceStore store;
        try {
            store = handle.preferenceStore().toCompletableFuture().join();
        } catch (CompletionException e) {
            return () -> {};
        }
        Optional<String> adminToken = LabelCommand.firstAdmin(store);
        Optional<String> annotatorToken = store.annotators().stream().anyMatch(a -> !a.getAdmin())
                ? Optional.empty()
                : Optional.of(store.addAnnotator(FIRST_ANNOTATOR, false).join());
        LabelingUiSettings ui = LabelingUiSettings.fromConfig(config);
        LabelingStack stack = LabelingStack.start(store, config, ui.host(), ui.port(), 0, Optional.of(runDir));
        adminToken.ifPresent(token -> out.println("admin token: " + token));
        annotatorToken.ifPresentOrElse(token -> out.println("annotator token: " + token),
                () -> out.println("annotators: " + String.join(", ", store.annotators().stream()
                        .filter(a -> !a.getAdmin()).map(Annotator::getName).toList())
                        + " (their tokens were printed when they were added)"));
        out.println("labeling ui listening on " + stack.uiUrl());
        out.flush();
        return stack;
    }
}
