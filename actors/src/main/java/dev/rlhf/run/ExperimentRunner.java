package dev.rlhf.run;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import dev.rlhf.actors.Algorithm;
import dev.rlhf.actors.AnnotatorsMode;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.actors.ExperimentPlan;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.actors.ExperimentTimeouts;
import dev.rlhf.actors.LocalPolicyReplica;
import dev.rlhf.actors.OnlineLearner;
import dev.rlhf.actors.OnlineLearners;
import dev.rlhf.actors.PublishedWeights;
import dev.rlhf.actors.LearnerActor;
import dev.rlhf.actors.PreferenceCollector;
import dev.rlhf.actors.RewardScorerActor;
import dev.rlhf.actors.RewardTrainerActor;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.cluster.ClusterJoin;
import dev.rlhf.cluster.ClusterSettings;
import dev.rlhf.cluster.LearnerLink;
import dev.rlhf.cluster.RemoteLearner;
import dev.rlhf.cluster.RemotePreferenceCollector;
import dev.rlhf.cluster.RemoteRewardScorers;
import dev.rlhf.cluster.RolloutWorkerDiscovery;
import dev.rlhf.cluster.UnreachableWorkerDowning;
import dev.rlhf.experiment.FilePrompts;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.metrics.ConsoleProgress;
import dev.rlhf.metrics.MetricsJsonlWriter;
import dev.rlhf.metrics.RunMetrics;
import dev.rlhf.policy.DeviceChoice;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.GoldAgreement;
import dev.rlhf.rewardmodel.ComparisonSource;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.rewardmodel.RewardTrainingSettings;
import dev.rlhf.rewardmodel.SequenceEncoder;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.PanelMajority;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one experiment in this JVM: loads the SFT policy, opens the run directory's preference store (which the
 * handle exposes, {@link ExperimentHandle#preferenceStore()}, for the labeling UI when people judge), starts an
 * actor system with every role (rollout workers under restart supervision), drives it to the end while recording
 * metrics, and writes the before/after summary. A run can be started fresh or resumed from its run directory's
 * newest checkpoint, and stopped (with a checkpoint) while it runs.
 *
 * <p>In cluster mode ({@code rlhf.cluster.enabled}) the actor system joins the Pekko cluster with the coordinator
 * role, runs {@code rlhf.cluster.local-rollout-workers} rollout workers of its own, and uses every rollout worker
 * node the Receptionist lists as well, through a gRPC proxy per node; with {@code rlhf.cluster.reward-scoring =
 * remote} the reward scorer is {@link RemoteRewardScorers}, which scores on the reward nodes it lists.
 */
public final class ExperimentRunner {
    /** Where in a run directory the reward-model versions are saved. */
    public static final String REWARD_MODELS_DIR = "reward-models";
    private static final Logger LOG = LoggerFactory.getLogger(ExperimentRunner.class);
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    private final Config config;
    private final ExperimentSettings settings;
    private final ClusterSettings cluster;
    private final ExperimentTimeouts timeouts;
    private final Path policyDir;
    private final PrintStream console;
    private final ReplicaWrapper replicas;
    private final UnaryOperator<ExperimentCoordinator.Roles> roleWrapper;

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
        this(config, policyDir, console, replicas, UnaryOperator.identity());
    }

    /** @param roleWrapper changes the roles before the coordinator spawns them (a test injects faults there) */
    ExperimentRunner(Config config, Path policyDir, PrintStream console, ReplicaWrapper replicas,
            UnaryOperator<ExperimentCoordinator.Roles> roleWrapper) {
        this.config = config;
        this.settings = ExperimentSettings.from(config);
        this.cluster = ClusterSettings.from(config);
        if (cluster.enabled()) {
            cluster.checkNode(config, ClusterSettings.COORDINATOR_ROLE);
        }
        this.timeouts = ExperimentTimeouts.from(config);
        this.policyDir = policyDir;
        this.console = console;
        this.replicas = replicas;
        this.roleWrapper = roleWrapper;
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
        ExperimentHandle handle = new ExperimentHandle(timeouts.checkpointNow());
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

    /** Says so when DPO's or IPO's epochs cap the configured iterations (see {@link ExperimentSettings}). */
    private void reportCappedIterations() {
        int configured = config.getInt("rlhf.experiment.iterations");
        if (settings.iterations() < configured) {
            String key = settings.algorithm().key();
            String capped = String.format(Locale.ROOT, "%s runs %d iterations, one epoch of the judged initial"
                    + " comparisons each: rlhf.%s.epochs caps rlhf.experiment.iterations (%d)", key,
                    settings.iterations(), key, configured);
            console.println(capped);
            LOG.info(capped);
        }
    }

    private Outcome execute(boolean resume, ExperimentHandle handle) throws Exception {
        long start = System.nanoTime();
        // rollout workers and the learner share the cores: one intra-op thread each keeps OpenMP from spinning
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(settings.intraOpThreads());
        Path runDir = settings.runDir();
        // the task's inputs are checked before the run directory is written, so a mistake can be fixed and rerun
        GptConfig policyConfig = GptConfig.read(policyDir);
        Optional<GivenRewardModel> given = settings.givenRewardModel()
                ? Optional.of(GivenRewardModel.check(settings.rewardModel(), policyDir, policyConfig,
                        settings.annotators()))
                : Optional.empty();
        if (remotePreferences() && settings.annotators() != AnnotatorsMode.SIMULATED) {
            throw new IllegalArgumentException("rlhf.cluster.preference-store = remote serves runs whose annotators are "
                    + "simulated, but rlhf.annotators.mode is " + config.getString("rlhf.annotators.mode")
                    + ": people judge through a local store (rlhf.cluster.preference-store = local)");
        }
        if (remoteLearner() && localWorkers() > 0) {
            throw new IllegalArgumentException("rlhf.cluster.learner = remote sends each weight version from the "
                    + "learner node straight to the rollout nodes, so rollout workers in this JVM could not load it: "
                    + "set rlhf.cluster.local-rollout-workers = 0 (it is " + localWorkers() + ")");
        }
        if (remoteScoring() && given.isPresent() && !given.get().sharesTokenizer()) {
            throw new IllegalArgumentException("rlhf.cluster.reward-scoring = remote needs a reward model that shares "
                    + "the policy's tokenizer (reward nodes read the policy checkpoint's), but "
                    + settings.rewardModel() + " has its own");
        }
        // a reward model reading the policy's tokens reads at most its own context of them
        int contextLength = Math.min(policyConfig.contextLength(), given.filter(GivenRewardModel::sharesTokenizer)
                .map(g -> g.config().contextLength()).orElse(Integer.MAX_VALUE));
        Optional<FilePrompts> filePrompts = settings.embeddedTask() ? Optional.empty()
                : Optional.of(loadPrompts(contextLength - settings.sampling().maxNewTokens()));
        Optional<GoldScore> gold = settings.embeddedTask() ? Optional.of(new GoldScore()) : Optional.empty();
        Optional<Path> checkpoint = prepareRunDirectory(runDir, resume);
        RunCheckpoint.State resumedState = checkpoint.isPresent() ? RunCheckpoint.readState(checkpoint.get()) : null;
        int iterationsDone = resumedState == null ? 0 : resumedState.iteration();
        PpoSettings ppo = PpoSettings.from(config);
        List<String> columns = new ArrayList<>(List.of("reward/rm_mean", "reward/gold_mean", "kl/to_reference",
                "ppo/clip_fraction", "ppo/approx_kl", "rollout/response_length", "time/iteration_s"));
        if (gold.isEmpty()) {
            columns.remove("reward/gold_mean");
        }
        if (settings.algorithm().offline()) {
            String prefix = settings.algorithm().key() + "/";
            columns.set(columns.indexOf("ppo/clip_fraction"), prefix + "loss");
            columns.set(columns.indexOf("ppo/approx_kl"), prefix + "reward_accuracy");
        } else if (settings.algorithm() != Algorithm.PPO) {
            String prefix = settings.algorithm().key() + "/";
            columns.set(columns.indexOf("ppo/clip_fraction"), "policy/clip_fraction");
            columns.set(columns.indexOf("ppo/approx_kl"), prefix + "group_reward_std");
        }
        ConsoleProgress progress = ConsoleProgress.onStderr(settings.iterations(), columns);
        try (RunLog log = RunLog.open(runDir);
                NDManager manager = NDManager.newBaseManager(
                        DeviceChoice.parse(config.getString("rlhf.device")).resolve());
                Policy sft = Policy.load(policyDir, manager);
                PreferenceStore store = remotePreferences() ? null : PreferenceStore.open(
                        PreferenceStoreSettings.fromConfig(config).withPath(runDir.resolve("preferences")));
                RunMetrics metrics = resume
                        ? RunMetrics.resume(runDir, progress, iterationsDone)
                        : RunMetrics.open(runDir, progress)) {
            if (store != null) {
                handle.storeOpened(store);
            }
            reportCappedIterations();
            filePrompts.ifPresent(prompts -> LOG.info("prompts of {}: {}", settings.prompts(), prompts.describe()));
            SequenceEncoder encoder = new SequenceEncoder(sft.tokenizer(), contextLength);
            ExperimentPlan plan = plan(sft, filePrompts);
            List<Comparison> goldHeldOut = gold.isPresent()
                    ? ComparisonSource.fromPolicy(sft, new ReviewCorpus().evaluationPrompts(200, settings.seed() + 5),
                            settings.sampling().maxNewTokens(), settings.seed() + 6)
                    : List.of();
            Path versionsRoot = runDir.resolve(REWARD_MODELS_DIR);
            RewardModelBuilder builder = new RewardModelBuilder(sft.model().weights(), policyDir, encoder,
                    RewardTrainingSettings.from(config), goldHeldOut, versionsRoot, settings.replay());
            Optional<GoldAgreement> panelMajority = gold.map(score -> PanelMajority.accuracyAgainstGold(
                    new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(config)), goldHeldOut, score));
            panelMajority.ifPresent(ceiling -> LOG.info("the annotator panel's majority agrees with gold on {} of the"
                    + " {} held-out comparisons the reward models are measured on: the ceiling of their accuracy",
                    String.format("%.3f", ceiling.accuracy()), ceiling.pairs()));
            RunRecorder recorder = new RunRecorder(metrics, runDir, console, gold, panelMajority);
            LearnerRole learnerRole = remoteLearner() ? remoteLearner(sft, runDir, checkpoint, resumedState)
                    : localLearner(sft, manager, runDir, checkpoint);
            Optional<RewardModelBuilder.Version> givenVersion = Optional.empty();
            ExperimentCoordinator.Resume resumePoint = null;
            if (resumedState != null) {
                RewardModelBuilder.Version rewardModel = resumedState.rewardModelVersion() > 0
                        ? builder.load(resumedState.rewardModelVersion(), manager) : null;
                recorder.resumed(rewardModel == null ? null : rewardModel.info(), versionsRoot);
                resumePoint = new ExperimentCoordinator.Resume(resumedState, rewardModel);
                console.printf("resuming %s from %s (iteration %d of %d)%n", runDir, checkpoint.get().getFileName(),
                        iterationsDone, settings.iterations());
            } else if (given.isPresent()) {
                given.get().installAsVersionOne(policyDir, versionsRoot);
                givenVersion = Optional.of(builder.load(1, manager));
            }
            WeightsBoard board = new WeightsBoard(learnerRole.initialWeights());
            List<Behavior<RolloutWorker.Command>> workers = new ArrayList<>();
            for (int i = 0; i < localWorkers(); i++) {
                workers.add(RolloutWorker.create(i, replicas.wrap(i,
                        LocalPolicyReplica.factory(sft.model().weights(), sft.tokenizer(), board, manager))));
            }
            ExperimentCoordinator.Roles roles = roleWrapper.apply(new ExperimentCoordinator.Roles(workers,
                    remoteScoring() ? RemoteRewardScorers.create(cluster) : RewardScorerActor.create(),
                    learnerRole.behavior(),
                    remotePreferences() ? RemotePreferenceCollector.create(runName(runDir), cluster)
                            : PreferenceCollector.create(new PreferenceLoop(store,
                                    new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(config)))),
                    RewardTrainerActor.create(builder, manager), DispatcherSelector.fromConfig(TENSOR_DISPATCHER)));
            ExperimentCoordinator.Resume from = resumePoint;
            Optional<RewardModelBuilder.Version> startingRewardModel = givenVersion;
            CompletableFuture<Event> ended = new CompletableFuture<>();
            Behavior<Event> guardian = RunGuardian.create(
                    listener -> ExperimentCoordinator.create(settings, plan, roles, board, from, startingRewardModel,
                            timeouts, gold, listener),
                    recorder, handle, ended, (context, coordinator) -> {
                        if (cluster.enabled()) {
                            context.spawn(UnreachableWorkerDowning.create(), "unreachable-worker-downing");
                            context.spawn(RolloutWorkerDiscovery.create(coordinator, cluster, workers.size(),
                                    sft.model().config().vocabSize(),
                                    learnerRole.link()),
                                    "rollout-worker-discovery");
                        }
                        handle.attach(coordinator, context.getSystem());
                    });
            ActorSystem<Event> system = ActorSystem.create(guardian, ClusterSettings.SYSTEM_NAME, cluster.enabled()
                    ? cluster.nodeConfig(config, ClusterSettings.COORDINATOR_ROLE) : config);
            if (cluster.enabled()) {
                ClusterJoin.join(system, cluster);
                LOG.info("cluster mode: node {} with {} local rollout workers, scoring {}; rollout worker and reward "
                        + "nodes join through the Receptionist", system.address(), localWorkers(),
                        remoteScoring() ? "on reward nodes" : "in this JVM");
            }
            try {
                Event end;
                try {
                    end = awaitEnd(ended, system);
                } catch (Exception e) {
                    reportFailure(e, runDir);
                    throw e;
                }
                if (end instanceof ExperimentCoordinator.Stopped stopped) {
                    console.printf("stopped after iteration %d; resume with --resume (checkpoint %s)%n",
                            stopped.iterations(), stopped.checkpoint());
                    return new Outcome(stopped.iterations(), Optional.empty(), Optional.of(stopped.checkpoint()));
                }
                ExperimentCoordinator.Finished done = (ExperimentCoordinator.Finished) end;
                RunSummary summary;
                try (RewardModelBuilder.Version last = builder.load(recorder.lastVersion(), manager)) {
                    summary = recorder.summary(done.iterations(), done.evaluationKl(), ppo.kl().target(),
                            (System.nanoTime() - start) / 1e9, last.scorer());
                }
                summary.write(runDir);
                return new Outcome(done.iterations(), Optional.of(summary), Optional.empty());
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get();
            }
        }
    }

    /**
     * The learner role, the weights the rollout workers start from, and the learner node the rollout node proxies
     * have send the weights it makes (empty for a learner in this JVM).
     */
    private record LearnerRole(Behavior<LearnerActor.Command> behavior, PublishedWeights initialWeights,
            Optional<LearnerLink> link) {}

    /** The learner in this JVM, fresh or resumed from {@code checkpoint}; it writes the checkpoints to the run dir. */
    private LearnerRole localLearner(Policy sft, NDManager manager, Path runDir, Optional<Path> checkpoint)
            throws IOException {
        OnlineLearner learner = checkpoint.isPresent()
                ? RunCheckpoint.resumeLearner(checkpoint.get(), sft.model().weights(), sft.tokenizer(), manager,
                        config, settings.algorithm())
                : OnlineLearners.create(settings.algorithm(), sft.model().weights(), sft.tokenizer(), manager,
                        config);
        return new LearnerRole(LearnerActor.create(learner, new RunCheckpoint(runDir)),
                new PublishedWeights.InProcess(learner.initialSnapshot()), Optional.empty());
    }

    /**
     * The learner on the learner node ({@code rlhf.cluster.learner = remote}): a fresh run's rollout workers start
     * from the SFT weights this JVM holds, a resumed run's from the version the node resumes at, which it sends them.
     */
    private LearnerRole remoteLearner(Policy sft, Path runDir, Optional<Path> checkpoint,
            RunCheckpoint.State resumedState) throws IOException {
        if (checkpoint.isPresent() && RunCheckpoint.learnerCheckpoint(checkpoint.get()).isEmpty()) {
            throw new IllegalArgumentException("checkpoint " + checkpoint.get() + " was written by a learner in the "
                    + "coordinator's JVM and holds its weights: resume it with rlhf.cluster.learner = local");
        }
        WeightsSnapshot sftWeights = WeightsSnapshot.of(sft.model().weights(), 0);
        int resumeIteration = checkpoint.isEmpty() ? -1 : resumedState.iteration();
        long version = checkpoint.isEmpty() ? 0 : RunCheckpoint.weightVersion(checkpoint.get());
        LearnerLink link = new LearnerLink(cluster.callTimeout());
        return new LearnerRole(RemoteLearner.create(runName(runDir), settings.algorithm(), config, sftWeights,
                resumeIteration, version, runDir, link, cluster, timeouts),
                checkpoint.isEmpty() ? new PublishedWeights.InProcess(sftWeights)
                        : new PublishedWeights.OnLearnerNode(version),
                Optional.of(link));
    }

    /**
     * What the run rolls out: the embedded review task's prompts and data-set comparisons, or a prompt file's
     * prompts.
     */
    private ExperimentPlan plan(Policy sft, Optional<FilePrompts> filePrompts) {
        if (filePrompts.isEmpty()) {
            ReviewCorpus corpus = new ReviewCorpus();
            return new ExperimentPlan(settings, corpus::prompts, corpus::evaluationPrompts, sft.tokenizer()::encode,
                    ComparisonSource.fromCorpus(corpus, settings.datasetComparisons(), 4, settings.seed() + 7));
        }
        FilePrompts prompts = filePrompts.get();
        return new ExperimentPlan(settings, prompts::training, prompts::evaluation, sft.tokenizer()::encode,
                List.of());
    }

    /** The prompt file's prompts of at most {@code maxPromptTokens} of the policy's tokens. */
    private FilePrompts loadPrompts(int maxPromptTokens) throws IOException {
        try (TextTokenizer tokenizer = TextTokenizer.load(policyDir)) {
            return FilePrompts.load(Path.of(settings.prompts()), prompt -> tokenizer.encode(prompt).length,
                    maxPromptTokens, settings.evaluationHeldOutShare(), settings.seed());
        }
    }

    /** Says on the console that the run failed, and where it can resume. */
    private void reportFailure(Exception failure, Path runDir) {
        console.printf("FAILED: %s%n", failure.getMessage());
        try {
            new RunCheckpoint(runDir).latest().ifPresent(checkpoint -> console.printf(
                    "the run directory keeps checkpoint %s: continue with --resume%n", checkpoint));
        } catch (IOException e) {
            LOG.warn("cannot list the checkpoints of {}", runDir, e);
        }
    }

    /**
     * The run's last event, once the recorder has recorded everything before it; a failed run throws. Waits no
     * longer than the actor system lives: every step of the coordinator has a timeout, and a system that stops
     * without an end (its guardian failed) ends the wait.
     */
    private static Event awaitEnd(CompletableFuture<Event> ended, ActorSystem<Event> system) throws Exception {
        CompletableFuture.anyOf(ended, system.getWhenTerminated().toCompletableFuture()).exceptionally(e -> null).get();
        if (!ended.isDone()) {
            throw new IllegalStateException("the actor system stopped before the run ended");
        }
        try {
            return ended.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** Whether the learner node updates the policy (cluster mode with rlhf.cluster.learner = remote). */
    private boolean remoteLearner() {
        return cluster.enabled() && cluster.remoteLearner();
    }

    /** Whether the run's preference store is on the preferences node (cluster mode, rlhf.cluster.preference-store). */
    private boolean remotePreferences() {
        return cluster.enabled() && cluster.remotePreferences();
    }

    /**
     * The run's name on the preferences and learner nodes: its directory's name (in the characters a name there may have) and
     * a digest of its absolute path, so runs in directories of the same name keep stores of their own.
     */
    static String runName(Path runDir) {
        Path absolute = runDir.toAbsolutePath().normalize();
        String name = absolute.getFileName() == null ? "run"
                : absolute.getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_").replaceFirst("^\\.", "_");
        byte[] digest;
        try {
            digest = MessageDigest.getInstance("SHA-256").digest(absolute.toString().getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
        return name.substring(0, Math.min(name.length(), 100)) + "-" + HexFormat.of().formatHex(digest, 0, 4);
    }

    /** Whether reward nodes score the run's completions (cluster mode with rlhf.cluster.reward-scoring = remote). */
    private boolean remoteScoring() {
        return cluster.enabled() && cluster.remoteRewardScoring();
    }

    /** Rollout workers in this JVM: {@code rlhf.experiment.rollout-workers}, or the cluster-mode count. */
    private int localWorkers() {
        return cluster.enabled() ? cluster.localRolloutWorkers() : settings.rolloutWorkers();
    }

    /** Whether {@code runDir} already holds a run (which a fresh run must not overwrite). */
    public static boolean holdsRun(Path runDir) {
        return Files.exists(runDir.resolve(MetricsJsonlWriter.FILE_NAME))
                || Files.exists(runDir.resolve(RunConfigFile.FILE_NAME));
    }

    /**
     * Checks the run directory suits the request and records the configuration; returns the checkpoint to resume
     * from, if any.
     *
     * @throws IllegalStateException if a fresh run is asked for in a directory that already holds one
     */
    private Optional<Path> prepareRunDirectory(Path runDir, boolean resume) throws IOException {
        RunConfigFile configFile = new RunConfigFile(runDir, config);
        if (!resume) {
            if (holdsRun(runDir)) {
                throw new IllegalStateException("run directory " + runDir + " already holds a run: resume it or "
                        + "choose another run directory");
            }
            Files.createDirectories(runDir);
            configFile.write();
            return Optional.empty();
        }
        Files.createDirectories(runDir);
        if (configFile.exists() && !configFile.matches()) {
            LOG.warn("the configuration differs from the one {} was started with ({}); the resumed run will not "
                    + "match an uninterrupted one", runDir, configFile);
        } else if (!configFile.exists()) {
            configFile.write();
        }
        Optional<Path> checkpoint = new RunCheckpoint(runDir).latest();
        if (checkpoint.isEmpty()) {
            console.printf("%s has no checkpoint yet: starting it from the beginning%n", runDir);
        }
        return checkpoint;
    }
}
