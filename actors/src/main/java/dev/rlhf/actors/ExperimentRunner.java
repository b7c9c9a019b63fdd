package dev.rlhf.actors;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.cluster.ClusterJoin;
import dev.rlhf.cluster.ClusterSettings;
import dev.rlhf.cluster.RolloutWorkerDiscovery;
import dev.rlhf.cluster.UnreachableWorkerDowning;
import dev.rlhf.experiment.GoldEvaluation;
import org.slf4j.LoggerFactory;
import org.slf4j.Logger;
import java.util.Optional;
import java.io.UncheckedIOException;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.metrics.MetricsJsonlWriter;
import dev.rlhf.experiment.EvaluationFile;
import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.metrics.ConsoleProgress;
import dev.rlhf.metrics.RunMetrics;
import dev.rlhf.policy.DeviceChoice;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.ComparisonSource;
import dev.rlhf.rewardmodel.RewardTrainingSettings;
import dev.rlhf.rewardmodel.SequenceEncoder;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs one experiment in this JVM: loads the SFT policy, opens the run directory's preference store, starts an
 * actor system with every role (rollout workers under restart supervision), drives it to the end while recording
 * metrics, and writes the before/after summary. A run can be started fresh or resumed from its run directory's
 * newest checkpoint, and stopped (with a checkpoint) while it runs.
 *
 * <p>In cluster mode ({@code rlhf.cluster.enabled}) the actor system joins the Pekko cluster with the coordinator
 * role, runs {@code rlhf.cluster.local-rollout-workers} rollout workers of its own, and uses every rollout worker
 * node the Receptionist lists as well, through a gRPC proxy per node.
 */
public final class ExperimentRunner {
    /** Where in a run directory the reward-model versions are saved. */
    public static final String REWARD_MODELS_DIR = "reward-models";
    private static final Logger LOG = LoggerFactory.getLogger(ExperimentRunner.class);
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";
    private static final String CONFIG_FILE = "config.conf";

    private final Config config;
    private final ExperimentSettings settings;
    private final ClusterSettings cluster;
    private final Path policyDir;
    private final PrintStream console;
    private final ReplicaWrapper replicas;

    /** Wraps the policy-replica factory of each rollout worker: the identity, except where a test injects a fault. */
    @FunctionalInterface
    interface ReplicaWrapper {
        RolloutWorker.PolicyReplica.Factory wrap(int worker, RolloutWorker.PolicyReplica.Factory factory);
    }

    /**
     * @param policyDir the SFT checkpoint (the caller builds the embedded one first when needed)
     * @param console where the progress table and the result go
     */
    public ExperimentRunner(Config config, Path policyDir, PrintStream console) {
        this(config, policyDir, console, (worker, factory) -> factory);
    }

    ExperimentRunner(Config config, Path policyDir, PrintStream console, ReplicaWrapper replicas) {
        this.config = config;
        this.settings = ExperimentSettings.from(config);
        this.cluster = ClusterSettings.from(config);
        this.policyDir = policyDir;
        this.console = console;
        this.replicas = replicas;
    }

    /** How a run ended: finished with its summary, or stopped with a checkpoint to resume from. */
    public record Outcome(int iterations, Optional<RunSummary> summary, Optional<Path> stoppedAt) {}

    /** Runs a fresh experiment to its end; returns the summary (also written to the run directory). */
    public RunSummary run() throws Exception {
        return start(false).await().summary().orElseThrow(() -> new IllegalStateException("the run was stopped"));
    }

    /**
     * Starts the run on a thread of its own and returns at once.
     *
     * @param resume continue from the run directory's newest checkpoint (from the beginning if it has none)
     *     rather than start a fresh run, which needs a run directory that holds no run yet
     */
    public ExperimentHandle start(boolean resume) {
        return start(resume, event -> {});
    }

    /** Like {@link #start(boolean)}, with {@code listener} hearing every event from the first on. */
    public ExperimentHandle start(boolean resume, Consumer<Event> listener) {
        ExperimentHandle handle = new ExperimentHandle();
        handle.addListener(listener);
        Thread thread = new Thread(() -> {
            try {
                handle.complete(execute(resume, handle));
            } catch (Throwable e) {
                handle.fail(e);
            }
        }, "experiment");
        thread.start();
        return handle;
    }

    private Outcome execute(boolean resume, ExperimentHandle handle) throws Exception {
        long start = System.nanoTime();
        // rollout workers and the learner share the cores: one intra-op thread each keeps OpenMP from spinning
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(settings.intraOpThreads());
        Path runDir = settings.runDir();
        Optional<Path> checkpoint = prepareRunDirectory(runDir, resume);
        RunCheckpoint.State resumedState = checkpoint.isPresent() ? RunCheckpoint.readState(checkpoint.get()) : null;
        int iterationsDone = resumedState == null ? 0 : resumedState.iteration();
        ReviewCorpus corpus = new ReviewCorpus();
        PpoSettings ppo = PpoSettings.from(config);
        ConsoleProgress progress = ConsoleProgress.onStderr(settings.iterations(),
                List.of("reward/rm_mean", "reward/gold_mean", "kl/to_reference", "ppo/clip_fraction", "ppo/approx_kl",
                        "rollout/response_length", "time/iteration_s"));
        try (NDManager manager = NDManager.newBaseManager(
                        DeviceChoice.parse(config.getString("rlhf.device")).resolve());
                Policy sft = Policy.load(policyDir, manager);
                PreferenceStore store = PreferenceStore.open(
                        PreferenceStoreSettings.fromConfig(config).withPath(runDir.resolve("preferences")));
                RunMetrics metrics = resume
                        ? RunMetrics.resume(runDir, progress, iterationsDone)
                        : RunMetrics.open(runDir, progress)) {
            SequenceEncoder encoder = new SequenceEncoder(sft.tokenizer(), sft.model().config().contextLength());
            List<Comparison> goldHeldOut = ComparisonSource.fromPolicy(sft, corpus.prompts(200, settings.seed() + 5),
                    settings.sampling().maxNewTokens(), settings.seed() + 6);
            Path versionsRoot = runDir.resolve(REWARD_MODELS_DIR);
            RewardModelBuilder builder = new RewardModelBuilder(sft.model().weights(), policyDir, encoder,
                    RewardTrainingSettings.from(config), goldHeldOut, versionsRoot, settings.replay());
            RunRecorder recorder = new RunRecorder(metrics, runDir.resolve(EvaluationFile.SFT));
            ExperimentCoordinator.Resume resumePoint = null;
            PolicyLearner learner;
            if (resumedState != null) {
                learner = RunCheckpoint.resumeLearner(checkpoint.get(), sft.model().weights(), manager, ppo);
                RewardModelBuilder.Version rewardModel = null;
                if (resumedState.rewardModelVersion() > 0) {
                    rewardModel = builder.load(resumedState.rewardModelVersion(), manager);
                    recorder.resumedWith(rewardModel, versionsRoot);
                }
                recorder.readSftEvaluation();
                resumePoint = new ExperimentCoordinator.Resume(resumedState, rewardModel);
                console.printf("resuming %s from %s (iteration %d of %d)%n", runDir, checkpoint.get().getFileName(),
                        iterationsDone, settings.iterations());
            } else {
                learner = new PolicyLearner(sft.model().weights(), manager, ppo);
            }
            WeightsBoard board = new WeightsBoard(learner.initialSnapshot());
            ExperimentPlan plan = new ExperimentPlan(settings, corpus::prompts, sft.tokenizer(),
                    ComparisonSource.fromCorpus(corpus, settings.datasetComparisons(), 4, settings.seed() + 7));
            CompletableFuture<Event> ended = new CompletableFuture<>();
            ExperimentCoordinator.Resume from = resumePoint;

            Behavior<Event> guardian = Behaviors.setup(context -> {
                DispatcherSelector tensors = DispatcherSelector.fromConfig(TENSOR_DISPATCHER);
                List<ActorRef<RolloutWorker.Command>> workers = new ArrayList<>();
                for (int i = 0; i < localWorkers(); i++) {
                    RolloutWorker.PolicyReplica.Factory factory = replicas.wrap(i,
                            LocalPolicyReplica.factory(sft.model().weights(), sft.tokenizer(), board, manager));
                    Behavior<RolloutWorker.Command> worker = Behaviors.supervise(RolloutWorker.create(i, factory))
                            .onFailure(SupervisorStrategy.restart());
                    workers.add(context.spawn(worker, "rollout-worker-" + i, tensors));
                }
                ExperimentCoordinator.Roles roles = new ExperimentCoordinator.Roles(
                        workers,
                        context.spawn(RewardScorerActor.create(0, null), "reward-scorer", tensors),
                        context.spawn(PpoLearnerActor.create(learner, new RunCheckpoint(runDir)), "ppo-learner",
                                tensors),
                        context.spawn(PreferenceCollector.create(new PreferenceLoop(store,
                                new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(config)))),
                                "preference-collector", tensors),
                        context.spawn(RewardTrainerActor.create(builder, manager), "reward-trainer", tensors));
                ActorRef<ExperimentCoordinator.Command> coordinator = context.spawn(ExperimentCoordinator.resume(
                        settings, plan, roles, board, from, cluster.workerWaitTimeout(), Optional.of(new GoldScore())),
                        "coordinator");
                if (cluster.enabled()) {
                    context.spawn(UnreachableWorkerDowning.create(), "unreachable-worker-downing");
                    context.spawn(RolloutWorkerDiscovery.create(coordinator, cluster, workers.size()),
                            "rollout-worker-discovery");
                }
                handle.attach(coordinator, context.getSystem());
                coordinator.tell(new ExperimentCoordinator.Start(context.getSelf()));
                // the guardian stays up at the end: the runner terminates the system, which first leaves the
                // cluster gracefully (a stopped guardian would stop the system's own actors, remoting included, at
                // once)
                return Behaviors.receive(Event.class)
                        .onMessage(ExperimentCoordinator.Finished.class, done -> {
                            ended.complete(done);
                            return Behaviors.same();
                        })
                        .onMessage(ExperimentCoordinator.Stopped.class, stopped -> {
                            ended.complete(stopped);
                            return Behaviors.same();
                        })
                        .onMessage(ExperimentCoordinator.Failed.class, failed -> {
                            ended.completeExceptionally(new IllegalStateException(failed.reason()));
                            return Behaviors.same();
                        })
                        .onAnyMessage(event -> {
                            recorder.onEvent(event);
                            handle.publish(event);
                            return Behaviors.same();
                        })
                        .build();
            });
            ActorSystem<Event> system = ActorSystem.create(guardian, ClusterSettings.SYSTEM_NAME, cluster.enabled()
                    ? cluster.nodeConfig(config, ClusterSettings.COORDINATOR_ROLE) : config);
            if (cluster.enabled()) {
                ClusterJoin.joinSelfWithoutSeeds(system, cluster);
                LOG.info("cluster mode: node {} with {} local rollout workers; rollout worker nodes join through "
                        + "the Receptionist", system.address(), localWorkers());
            }
            try {
                Event end = ended.get();
                if (end instanceof ExperimentCoordinator.Stopped stopped) {
                    console.printf("stopped after iteration %d; resume with --resume (checkpoint %s)%n",
                            stopped.iterations(), stopped.checkpoint());
                    return new Outcome(stopped.iterations(), Optional.empty(), Optional.of(stopped.checkpoint()));
                }
                ExperimentCoordinator.Finished done = (ExperimentCoordinator.Finished) end;
                RunSummary summary = recorder.summary(done.iterations(), done.evaluationKl(), ppo.kl().target(),
                        (System.nanoTime() - start) / 1e9);
                summary.write(runDir);
                return new Outcome(done.iterations(), Optional.of(summary), Optional.empty());
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get();
                recorder.close();
            }
        }
    }

    /** Rollout workers in this JVM: {@code rlhf.experiment.rollout-workers}, or the cluster-mode count. */
    private int localWorkers() {
        return cluster.enabled() ? cluster.localRolloutWorkers() : settings.rolloutWorkers();
    }

    /** Whether {@code runDir} already holds a run (which a fresh run must not overwrite). */
    public static boolean holdsRun(Path runDir) {
        return Files.exists(runDir.resolve(MetricsJsonlWriter.FILE_NAME)) || Files.exists(runDir.resolve(CONFIG_FILE));
    }

    /**
     * Checks the run directory suits the request and records the configuration; returns the checkpoint to resume
     * from, if any.
     *
     * @throws IllegalStateException if a fresh run is asked for in a directory that already holds one
     */
    private Optional<Path> prepareRunDirectory(Path runDir, boolean resume) throws IOException {
        String rendered = config.getConfig("rlhf").root().render(ConfigRenderOptions.concise().setFormatted(true));
        Path configFile = runDir.resolve(CONFIG_FILE);
        if (!resume) {
            if (holdsRun(runDir)) {
                throw new IllegalStateException("run directory " + runDir + " already holds a run: resume it or "
                        + "choose another run directory");
            }
            Files.createDirectories(runDir);
            Files.writeString(configFile, rendered, StandardCharsets.UTF_8);
            return Optional.empty();
        }
        Files.createDirectories(runDir);
        if (Files.exists(configFile) && !Files.readString(configFile, StandardCharsets.UTF_8).equals(rendered)) {
            LOG.warn("the configuration differs from the one {} was started with ({}); the resumed run will not "
                    + "match an uninterrupted one", runDir, configFile);
        } else if (!Files.exists(configFile)) {
            Files.writeString(configFile, rendered, StandardCharsets.UTF_8);
        }
        Optional<Path> checkpoint = new RunCheckpoint(runDir).latest();
        if (checkpoint.isEmpty()) {
            console.printf("%s has no checkpoint yet: starting it from the beginning%n", runDir);
        }
        return checkpoint;
    }

    /** Records what the coordinator reports: metrics per iteration, evaluations, reward-model versions. */
    private final class RunRecorder implements AutoCloseable {
        private final RunMetrics metrics;
        private final Path sftEvaluationFile;
        private final GoldScore gold = new GoldScore();
        private final List<RewardModelInfo> versions = new ArrayList<>();
        private final List<RewardModelBuilder.Version> loaded = new ArrayList<>();
        private GoldEvaluation.Estimate before;
        private GoldEvaluation.Estimate after;
        private List<String> evaluationPrompts;
        private double lastKl = Double.NaN;

        RunRecorder(RunMetrics metrics, Path sftEvaluationFile) {
            this.metrics = metrics;
            this.sftEvaluationFile = sftEvaluationFile;
        }

        /** A resumed run: the versions before {@code current} come from disk; {@code current} is closed at the end. */
        void resumedWith(RewardModelBuilder.Version current, Path versionsRoot) {
            for (int v = 1; v < current.info().version(); v++) {
                versions.add(RewardModelInfo.read(RewardModelCheckpoint.versionDirectory(versionsRoot, v)));
            }
            versions.add(current.info());
            loaded.add(current);
        }

        void readSftEvaluation() throws IOException {
            EvaluationFile.Evaluation evaluation = EvaluationFile.read(sftEvaluationFile);
            evaluationPrompts = evaluation.prompts();
            before = GoldEvaluation.of(gold, evaluation.prompts(), evaluation.completions());
        }

        void onEvent(Event event) {
            try {
                if (event instanceof ExperimentCoordinator.Evaluated e) {
                    GoldEvaluation.Estimate estimate = GoldEvaluation.of(gold, e.prompts(), e.completions());
                    evaluationPrompts = e.prompts();
                    if (e.weightVersion() == 0) {
                        before = estimate;
                        EvaluationFile.write(sftEvaluationFile,
                                new EvaluationFile.Evaluation(e.prompts(), e.completions()));
                    } else {
                        after = estimate;
                    }
                } else if (event instanceof ExperimentCoordinator.RewardModelTrained t) {
                    versions.add(t.version().info());
                    loaded.add(t.version());
                    console.printf("reward model v%d from iteration %d: held-out accuracy against gold %.3f%n",
                            t.version().info().version(), t.fromIteration(),
                            t.version().info().metrics().get("accuracy_against_gold"));
                } else if (event instanceof ExperimentCoordinator.IterationDone d) {
                    lastKl = d.stats().klToReference();
                    metrics.record(d.iteration() + 1, d.scalars());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        RunSummary summary(int iterations, double[] evaluationKl, double klTarget, double seconds) {
            ReviewCorpus corpus = new ReviewCorpus();
            double[] best = new double[evaluationPrompts.size()];
            for (int i = 0; i < best.length; i++) {
                String prompt = evaluationPrompts.get(i);
                best[i] = gold.score(prompt, corpus.bestResponse(prompt, i));
            }
            RewardModelInfo last = versions.get(versions.size() - 1);
            GoldEvaluation.Estimate gain = GoldEvaluation.pairedGain(gold, evaluationPrompts, before.completions(),
                    after.completions());
            RunSummary summary = new RunSummary(before, after, GoldEvaluation.estimate(best, List.of()), gain,
                    GoldEvaluation.estimate(evaluationKl, List.of()), lastKl, klTarget,
                    last.metrics().get("accuracy_against_gold"), versions.size(), iterations, seconds);
            printSamples();
            return summary;
        }

        private void printSamples() {
            console.println();
            console.println("Sample completions (same prompts and seeds), SFT -> tuned:");
            for (int i = 0; i < Math.min(3, evaluationPrompts.size()); i++) {
                String prompt = evaluationPrompts.get(i);
                String sftText = before.completions().get(i).text();
                String tunedText = after.completions().get(i).text();
                console.printf("  %s%n    SFT   (gold %+.2f):%s%n    tuned (gold %+.2f):%s%n", prompt,
                        gold.score(prompt, sftText), sftText, gold.score(prompt, tunedText), tunedText);
            }
        }

        @Override
        public void close() {
            loaded.forEach(RewardModelBuilder.Version::close);
        }
    }
}
