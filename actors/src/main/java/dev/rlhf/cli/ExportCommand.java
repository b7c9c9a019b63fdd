package dev.rlhf.cli;

import com.typesafe.config.Config;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.run.PolicyExport;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf export}: a run's tuned policy in the Hugging Face layout, with the tokenizer of the policy the run
 * started from (found as {@code train --resume} finds it) and the run's sampling settings.
 */
@Command(name = "export", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf export --run runs/quickstart --out tuned",
            "  ./rlhf export --run runs/quickstart --checkpoint iter-50 --out tuned-50",
            "  ./rlhf export --run runs/quickstart --out tuned-v --with-value-head"},
        description = "Write a run's tuned policy (its newest checkpoint, or --checkpoint) in the Hugging Face layout"
                + " transformers loads: config.json, model.safetensors, tokenizer.json, tokenizer_config.json,"
                + " generation_config.json. The last line printed is the output directory.")
final class ExportCommand implements Callable<Integer> {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Option(names = "--run", required = true, paramLabel = "RUN_DIR", description = "The run directory.")
    private Path run;

    @Option(names = "--checkpoint", paramLabel = "iter-N", description = "Which of the run's checkpoints"
            + " (default: the newest).")
    private String checkpoint;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory; must not exist or"
            + " be empty.")
    private Path out;

    @Option(names = "--with-value-head", description = "Keep the value head (v_head.summary.*, TRL's names).")
    private boolean withValueHead;

    @Override
    public Integer call() throws Exception {
        Config config = PolicyExport.runConfig(run);
        Path source = PolicyExport.checkpoint(run, Optional.ofNullable(checkpoint));
        Path policy = CliContext.experimentPolicy(config);
        Path written = PolicyExport.write(source, policy, ExperimentSettings.from(config).sampling(), withValueHead,
                out);
        spec.commandLine().getOut().println("exported " + source + " to " + written);
        spec.commandLine().getOut().println(written);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
