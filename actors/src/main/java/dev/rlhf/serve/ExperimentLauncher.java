package dev.rlhf.serve;

import com.typesafe.config.Config;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.run.ExperimentHandle;
import java.util.function.Consumer;

/** Starts an experiment for the ExperimentService: finds its SFT policy and hands it to the runner. */
@FunctionalInterface
public interface ExperimentLauncher {

    /**
     * Starts the run {@code config} describes and returns at once.
     *
     * @param listener hears every event of the run from the first on
     */
    ExperimentHandle start(Config config, boolean resume, Consumer<ExperimentCoordinator.Event> listener)
            throws Exception;
}
