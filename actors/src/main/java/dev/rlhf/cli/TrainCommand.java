package dev.rlhf.cli;

import com.typesafe.config.Config;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.cluster.ClusterSettings;
import dev.rlhf.run.ExperimentRunner;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf train --config FILE}: runs the experiment one HOCON file describes. */
@Command(name = "train", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf train --config my-experiment.conf",
            "  ./rlhf train --config my-experiment.conf --resume"},
        description = "Run the RLHF experiment described by a HOCON file (keys under rlhf.experiment, rlhf.ppo, "
                + "rlhf.reward-model, rlhf.annotators; unset keys take their reference.conf defaults).")
final class TrainCommand implements Callable<Integer> {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", required = true, description = "Experiment HOCON file.")
    private Path file;

    @Option(names = "--resume", description = "Continue the run in the configured run directory from its newest "
            + "checkpoint (same seed, same results as an uninterrupted run).")
    private boolean resume;

    @Override
    public Integer call() throws Exception {
        Config config = CliContext.readConfigFile(file);
        ExperimentSettings.from(config); // a bad setting is reported before the embedded policy is built
        ClusterSettings cluster = ClusterSettings.from(config);
        if (cluster.enabled()) {
            cluster.checkNode(config, ClusterSettings.COORDINATOR_ROLE);
        }
        Path policy = CliContext.experimentPolicy(config);
        try (AutoCloseable quiet = ConsoleLogFilter.quiet(CliErrors.verbose(spec.commandLine().getParseResult()))) {
            return ExperimentReport.printOutcome(
                    new ExperimentRunner(config, policy, System.out).start(resume).await(),
                    Path.of(config.getString("rlhf.experiment.run-dir")), System.out);
        }
    }
}
