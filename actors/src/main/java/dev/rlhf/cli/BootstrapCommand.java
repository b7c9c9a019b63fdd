package dev.rlhf.cli;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bootstrap.Bootstrap;
import dev.rlhf.policy.bootstrap.BootstrapSettings;
import dev.rlhf.run.RunLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf bootstrap}: builds the embedded SFT policy from the generated corpus. */
@Command(name = "bootstrap", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bootstrap",
            "  ./rlhf bootstrap --output models/my-sft --force"},
        description = "Pretrain and SFT-tune the tiny embedded policy on the generated review corpus.")
final class BootstrapCommand implements Callable<Integer> {
    /** The log of a bootstrap, next to the checkpoint it builds. */
    static final String LOG_FILE = "bootstrap.log";

    @Option(names = "--output", description = "Checkpoint directory to write (default: rlhf.embedded-model-dir).")
    private Path output;

    @Option(names = "--force", description = "Rebuild even if the checkpoint exists.")
    private boolean force;

    @Override
    public Integer call() throws Exception {
        CliContext context = CliContext.load();
        Path dir = output != null ? output : context.embeddedModelDir();
        if (!force && Files.isRegularFile(dir.resolve("model.safetensors"))) {
            System.err.println("embedded policy already at " + dir + " (use --force to rebuild)");
            return 0;
        }
        ensureBuilt(context, dir);
        System.out.println(dir.toAbsolutePath());
        return 0;
    }

    /**
     * Builds the SFT checkpoint at {@code dir} unless it is already there: progress on the console, the log in
     * {@code dir}/bootstrap.log.
     */
    static void ensureBuilt(CliContext context, Path dir) throws Exception {
        if (Files.isRegularFile(dir.resolve("model.safetensors"))) {
            return;
        }
        System.err.println("building the embedded SFT policy in " + dir + " (a few minutes, once)...");
        try (AutoCloseable quiet = ConsoleLogFilter.quiet(RlhfCli.verbose());
                RunLog log = RunLog.toFile(dir.resolve(LOG_FILE));
                NDManager manager = context.newManager()) {
            new Bootstrap(BootstrapSettings.from(context.config()), new BootstrapProgress(System.err)).run(dir,
                    manager);
        }
    }
}
