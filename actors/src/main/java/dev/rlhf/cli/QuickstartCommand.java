package dev.rlhf.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.run.ExperimentHandle;
import dev.rlhf.run.ExperimentRunner;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf quickstart}: the main job on embedded defaults. Builds the embedded SFT policy if it is missing,
 * collects judgments from simulated annotators, trains the reward model, runs PPO with iterated RLHF, and prints
 * the before/after gold reward; the last line is the path of the run's {@code summary.json}.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf quickstart",
            "  ./rlhf quickstart --run-dir runs/q1 --iterations 20 --resume",
            "  ./rlhf quickstart --human --iterations 400"},
        description = "Run the whole RLHF loop on embedded defaults (SFT policy, simulated annotators, reward "
                + "model, PPO) and print the before/after gold reward.")
final class QuickstartCommand implements Callable<Integer> {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Option(names = "--run-dir", description = "Run directory (default: runs/quickstart-<time>).")
    private Path runDir;

    @Option(names = "--iterations", description = "PPO iterations (default: rlhf.experiment.iterations).")
    private Integer iterations;

    @Option(names = "--resume", description = "Continue the run in --run-dir from its newest checkpoint.")
    private boolean resume;

    @Option(names = "--human", description = "People label the comparison pairs (rlhf.annotators.mode = human):"
            + " serves the labeling UI beside the run (rlhf.labeling-ui.host and port) and prints its address, an"
            + " admin token and an annotator token.")
    private boolean human;

    @Override
    public Integer call() throws Exception {
        if (resume && runDir == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--resume needs the --run-dir of the run to continue");
        }
        CliContext context = CliContext.load();
        Path dir = runDir != null ? runDir
                : Path.of("runs", "quickstart-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Config config = context.config().withValue("rlhf.experiment.run-dir", ConfigValueFactory.fromAnyRef(dir.toString()));
        if (iterations != null) {
            config = config.withValue("rlhf.experiment.iterations", ConfigValueFactory.fromAnyRef(iterations));
        }
        if (human) {
            config = config.withValue("rlhf.annotators.mode", ConfigValueFactory.fromAnyRef("human"));
        }
        ExperimentSettings.from(config); // a bad setting is reported before the embedded policy is built
        Path policy = context.embeddedModelDir();
        BootstrapCommand.ensureBuilt(context, policy);
        try (AutoCloseable quiet = ConsoleLogFilter.quiet(CliErrors.verbose(spec.commandLine().getParseResult()))) {
            ExperimentHandle handle = new ExperimentRunner(config, policy, System.out).start(resume);
            try (AutoCloseable labeling = human ? HumanLabeling.serve(handle, config, dir, System.out) : () -> {}) {
                return ExperimentReport.printOutcome(handle.await(), dir, System.out);
            }
        }
    }
}
