package dev.rlhf.cli;

import ai.djl.ndarray.NDManager;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.serve.CheckpointFollower;
import dev.rlhf.serve.ExperimentGrpcService;
import dev.rlhf.serve.ExperimentServeSettings;
import dev.rlhf.serve.NettyTransport;
import dev.rlhf.serve.PolicyServer;
import dev.rlhf.serve.RewardModelVersions;
import dev.rlhf.serve.RewardServeSettings;
import dev.rlhf.serve.ServeSettings;
import dev.rlhf.serve.ServedModel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf serve}: serves a policy (plus the preference store and reward models, when configured) over gRPC
 * until stopped, optionally hot-swapping the policy to each new checkpoint of a run.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf serve --port 0",
            "  ./rlhf serve --follow runs/quickstart"},
        description = "Serve PolicyService over gRPC (plus PreferenceService when rlhf.serve.preference-store is set,"
                + " RewardService when a reward model is given) until SIGTERM or SIGINT.")
final class ServeCommand implements Callable<Integer> {
    private static final String FOLLOW_POLL_INTERVAL = "rlhf.serve.follow.poll-interval";

    @Option(names = "--checkpoint", description = "Checkpoint directory (default: the embedded policy, built if missing);"
            + " with --follow, also where the tokenizer comes from.")
    private Path checkpoint;

    @Option(names = "--port", description = "TCP port; 0 picks a free one (default: rlhf.serve.port).")
    private Integer port;

    @Option(names = "--follow", paramLabel = "RUN_DIR", description = "Hot-swap the policy to each new checkpoint of"
            + " this experiment run (RUN_DIR/checkpoints), and serve its reward models (RUN_DIR/reward-models) unless"
            + " --reward-model names others.")
    private Path follow;

    @Option(names = "--experiments", description = "Also serve ExperimentService: clients start, stop, checkpoint and"
            + " watch experiments run in this process (default: rlhf.serve.experiments.enabled); needs"
            + " rlhf.serve.auth-token.")
    private Boolean experiments;

    @Option(names = "--reward-model", paramLabel = "DIR", description = "Serve RewardService from this reward-model"
            + " checkpoint or directory of versions (default: rlhf.serve.reward.model).")
    private Path rewardModel;

    @Override
    public Integer call() throws Exception {
        CliContext context = CliContext.load();
        ServeSettings settings = ServeSettings.fromConfig(context.config());
        if (port != null) {
            settings = settings.withPort(port);
        }
        RewardServeSettings rewardSettings = rewardSettings(RewardServeSettings.fromConfig(context.config()));
        ExperimentServeSettings experimentSettings = ExperimentServeSettings.fromConfig(context.config());
        boolean experimentsOn = experiments != null ? experiments : experimentSettings.enabled();
        if (experimentsOn) {
            PolicyServer.checkExperimentsAllowed(settings);
        }
        Duration pollInterval = context.config().getDuration(FOLLOW_POLL_INTERVAL);
        if (pollInterval.isNegative() || pollInterval.isZero()) {
            throw new IllegalArgumentException(FOLLOW_POLL_INTERVAL + " must be positive but was: " + pollInterval);
        }
        Path dir = checkpoint != null ? checkpoint : context.embeddedModelDir();
        if (checkpoint == null) {
            BootstrapCommand.ensureBuilt(context, dir);
        }
        Optional<PreferenceStore> store = settings.preferenceStore().map(path ->
                PreferenceStore.open(PreferenceStoreSettings.fromConfig(context.config()).withPath(path)));
        CountDownLatch closed = new CountDownLatch(1);
        try (NDManager manager = context.newManager(); ServedModel model = ServedModel.load(dir, manager)) {
            Optional<RewardModelVersions> rewards =
                    rewardSettings.model().map(m -> RewardModelVersions.open(rewardSettings, manager));
            Optional<ExperimentGrpcService> experimentService = experimentsOn
                    ? Optional.of(new ExperimentGrpcService(context.config(), experimentSettings,
                            (config, resume, listener) -> new ExperimentRunner(config,
                                    CliContext.experimentPolicy(config), System.out).start(resume, listener)))
                    : Optional.empty();
            PolicyServer server = new PolicyServer(NettyTransport.builder(settings), model, settings, store, rewards,
                    experimentService).start();
            Optional<CheckpointFollower> follower = Optional.ofNullable(follow)
                    .map(run -> CheckpointFollower.start(run, server, manager, pollInterval));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                // stderr, since the logger may have been reset by its own shutdown hook
                System.err.println("*** shutting down the gRPC server since the JVM is shutting down");
                try {
                    follower.ifPresent(CheckpointFollower::close);
                    server.stop();
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "serve-shutdown"));
            System.out.println("grpc listening on " + settings.host() + ":" + server.port());
            System.out.flush();
            try {
                server.blockUntilShutdown();
            } finally {
                follower.ifPresent(CheckpointFollower::close);
                experimentService.ifPresent(ExperimentGrpcService::stopRunning);
                rewards.ifPresent(RewardModelVersions::close);
            }
        } finally {
            store.ifPresent(PreferenceStore::close);
            closed.countDown();
        }
        return 0;
    }

    /** The configured reward settings, serving --reward-model, else the followed run's versions when it has any. */
    private RewardServeSettings rewardSettings(RewardServeSettings configured) {
        if (rewardModel != null) {
            return configured.withModel(rewardModel);
        }
        Path runVersions = follow == null ? null : follow.resolve(ExperimentRunner.REWARD_MODELS_DIR);
        if (configured.model().isEmpty() && runVersions != null && Files.isDirectory(runVersions)) {
            return configured.withModel(runVersions);
        }
        return configured;
    }
}
