package dev.rlhf.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.run.ExperimentRunner;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf quickstart}: the main job on embedded defaults. Builds the embedded SFT policy if it is missing,
 * collects judgments from simulated annotators, trains the reward model, runs PPO with iterated RLHF, and prints
 * the before/after gold reward; the last line is the path of the run's {@code summary.json}.
 */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Run the whole RLHF loop on embedded defaults (SFT policy, simulated annotators, reward "
                + "model, PPO) and print the before/after gold reward.")
final class QuickstartCommand implements Callable<Integer> {

    @Option(names = "--run-dir", description = "Run directory (default: runs/quickstart-<time>).")
    private Path runDir;

    @Option(names = "--iterations", description = "PPO iterations (default: rlhf.experiment.iterations).")
    private Integer iterations;

    @Option(names = "--resume", description = "Continue the run in --run-dir from its newest checkpoint.")
    private boolean resume;

    @Override
    public Integer call() throws Exception {
        if (resume && runDir == null) {
            System.err.println("--resume needs the --run-dir of the run to continue");
            return 2;
        }
        CliContext context = CliContext.load();
        Path policy = context.embeddedModelDir();
        BootstrapCommand.ensureBuilt(context, policy);
        Path dir = runDir != null ? runDir
                : Path.of("runs", "quickstart-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        Config config = context.config().withValue("rlhf.experiment.run-dir", ConfigValueFactory.fromAnyRef(dir.toString()));
        if (iterations != null) {
            config = config.withValue("rlhf.experiment.iterations", ConfigValueFactory.fromAnyRef(iterations));
        }
        return ExperimentReport.printOutcome(new ExperimentRunner(config, policy, System.out).start(resume).await(),
                dir, System.out);
    }
}
