package dev.rlhf.actors;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.experiment.GoldEvaluation;
import dev.rlhf.experiment.PolicyLearner;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.experiment.RewardModelBuilder;
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
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Runs one experiment in this JVM: loads the SFT policy, opens the run directory's preference store, starts an
 * actor system with every role (rollout workers under restart supervision), drives it to the end while recording
 * metrics, and writes the before/after summary.
 */
public final class ExperimentRunner {
    /** Where in a run directory the reward-model versions are saved. */
    public static final String REWARD_MODELS_DIR = "reward-models";
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    private final Config config;
    private final ExperimentSettings settings;
    private final Path policyDir;
    private final PrintStream console;

    /**
     * @param policyDir the SFT checkpoint (the caller builds the embedded one first when needed)
     * @param console where the progress table and the result go
     */
    public ExperimentRunner(Config config, Path policyDir, PrintStream console) {
        this.config = config;
        this.settings = ExperimentSettings.from(config);
        this.policyDir = policyDir;
        this.console = console;
    }

    /** Runs the experiment to its end; returns the summary (also written to the run directory). */
    public RunSummary run() throws Exception {
        long start = System.nanoTime();
        // rollout workers and the learner share the cores: one intra-op thread each keeps OpenMP from spinning
        Engine.getInstance(); // loads libtorch, which the thread setting below goes to
        JniUtils.setNumThreads(settings.intraOpThreads());
        Path runDir = settings.runDir();
        Files.createDirectories(runDir);
        Files.writeString(runDir.resolve("config.conf"),
                config.getConfig("rlhf").root().render(ConfigRenderOptions.concise().setFormatted(true)),
                StandardCharsets.UTF_8);
        ReviewCorpus corpus = new ReviewCorpus();
        PpoSettings ppo = PpoSettings.from(config);
        try (NDManager manager = NDManager.newBaseManager(
                        DeviceChoice.parse(config.getString("rlhf.device")).resolve());
                Policy sft = Policy.load(policyDir, manager);
                PreferenceStore store = PreferenceStore.open(
                        PreferenceStoreSettings.fromConfig(config).withPath(runDir.resolve("preferences")));
                RunMetrics metrics = RunMetrics.open(runDir, ConsoleProgress.onStderr(settings.iterations(),
                        List.of("reward/rm_mean", "kl/to_reference", "ppo/clip_fraction", "ppo/approx_kl",
                                "rollout/response_length", "time/iteration_s")))) {
            SequenceEncoder encoder = new SequenceEncoder(sft.tokenizer(), sft.model().config().contextLength());
            List<Comparison> goldHeldOut = ComparisonSource.fromPolicy(sft, corpus.prompts(200, settings.seed() + 5),
                    settings.sampling().maxNewTokens(), settings.seed() + 6);
            RewardModelBuilder builder = new RewardModelBuilder(sft.model().weights(), policyDir, encoder,
                    RewardTrainingSettings.from(config), goldHeldOut, runDir.resolve(REWARD_MODELS_DIR));
            PolicyLearner learner = new PolicyLearner(sft.model().weights(), manager, ppo);
            WeightsBoard board = new WeightsBoard(learner.initialSnapshot());
            ExperimentPlan plan = new ExperimentPlan(settings, corpus::prompts, sft.tokenizer(),
                    ComparisonSource.fromCorpus(corpus, settings.datasetComparisons(), 4, settings.seed() + 7));
            RunRecorder recorder = new RunRecorder(metrics);
            CompletableFuture<ExperimentCoordinator.Finished> finished = new CompletableFuture<>();

            Behavior<Event> guardian = Behaviors.setup(context -> {
                DispatcherSelector tensors = DispatcherSelector.fromConfig(TENSOR_DISPATCHER);
                List<ActorRef<RolloutWorker.Command>> workers = new ArrayList<>();
                for (int i = 0; i < settings.rolloutWorkers(); i++) {
                    Behavior<RolloutWorker.Command> worker = Behaviors.supervise(RolloutWorker.create(i,
                                    LocalPolicyReplica.factory(sft.model().weights(), sft.tokenizer(), board, manager)))
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
                ActorRef<ExperimentCoordinator.Command> coordinator = context.spawn(
                        ExperimentCoordinator.create(settings, plan, roles, board), "coordinator");
                coordinator.tell(new ExperimentCoordinator.Start(context.getSelf()));
                return Behaviors.receive(Event.class)
                        .onMessage(ExperimentCoordinator.Finished.class, done -> {
                            finished.complete(done);
                            return Behaviors.stopped();
                        })
                        .onMessage(ExperimentCoordinator.Failed.class, failed -> {
                            finished.completeExceptionally(new IllegalStateException(failed.reason()));
                            return Behaviors.stopped();
                        })
                        .onAnyMessage(event -> {
                            recorder.onEvent(event);
                            return Behaviors.same();
                        })
                        .build();
            });
            ActorSystem<Event> system = ActorSystem.create(guardian, "rlhf", config);
            try {
                ExperimentCoordinator.Finished done = finished.get();
                RunSummary summary = recorder.summary(plan, done.iterations(), ppo.kl().target(),
                        (System.nanoTime() - start) / 1e9);
                summary.write(runDir);
                return summary;
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get();
                recorder.close();
            }
        }
    }

    /** Records what the coordinator reports: metrics per iteration, evaluations, reward-model versions. */
    private final class RunRecorder implements AutoCloseable {
        private final RunMetrics metrics;
        private final GoldScore gold = new GoldScore();
        private final List<RewardModelBuilder.Version> versions = new ArrayList<>();
        private GoldEvaluation.Estimate before;
        private GoldEvaluation.Estimate after;
        private List<String> evaluationPrompts;
        private double lastKl = Double.NaN;

        RunRecorder(RunMetrics metrics) {
            this.metrics = metrics;
        }

        void onEvent(Event event) {
            try {
                if (event instanceof ExperimentCoordinator.Evaluated e) {
                    GoldEvaluation.Estimate estimate = GoldEvaluation.of(gold, e.prompts(), e.completions());
                    evaluationPrompts = e.prompts();
                    if (e.weightVersion() == 0) {
                        before = estimate;
                    } else {
                        after = estimate;
                    }
                } else if (event instanceof ExperimentCoordinator.RewardModelTrained t) {
                    versions.add(t.version());
                    console.printf("reward model v%d from iteration %d: held-out accuracy against gold %.3f%n",
                            t.version().info().version(), t.fromIteration(),
                            t.version().info().metrics().get("accuracy_against_gold"));
                } else if (event instanceof ExperimentCoordinator.IterationDone d) {
                    lastKl = d.stats().klToReference();
                    metrics.record(d.iteration() + 1, d.scalars());
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        RunSummary summary(ExperimentPlan plan, int iterations, double klTarget, double seconds) {
            ReviewCorpus corpus = new ReviewCorpus();
            double[] best = new double[evaluationPrompts.size()];
            for (int i = 0; i < best.length; i++) {
                String prompt = evaluationPrompts.get(i);
                best[i] = gold.score(prompt, corpus.bestResponse(prompt, i));
            }
            RewardModelBuilder.Version last = versions.get(versions.size() - 1);
            RunSummary summary = new RunSummary(before, after, GoldEvaluation.estimate(best, List.of()), lastKl,
                    klTarget, last.info().metrics().get("accuracy_against_gold"), versions.size(), iterations,
                    seconds);
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
            versions.forEach(RewardModelBuilder.Version::close);
        }
    }
}
