package dev.rlhf.actors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.TensorSpec;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardNormalizer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;

/**
 * Roles that answer the coordinator at once with made-up results, for tests of the coordinator alone: a worker's
 * completion of prompt token ids {@code [t]} is the text {@code "<worker>:<t>"}, so a test sees who generated what.
 */
final class ScriptedRoles {
    /** Two iterations of four prompts, one pair judged per iteration; v1 only (no retraining). */
    static final ExperimentSettings SETTINGS = new ExperimentSettings("", Path.of("unused"), 1, 2, 4, 2, 1, 1,
            new SamplingParams(1f, 0, 1f, 4, 1f, Set.of(), List.of(), 0L), 4, 2, 0, true, 1, 1_000_000, 0);

    private ScriptedRoles() {}

    /** The plan of {@link #SETTINGS}: prompt i of a draw is {@code "p<i>"}, tokenised as {@code [i]}. */
    static ExperimentPlan plan() {
        return plan(SETTINGS);
    }

    /** The plan of {@code settings}, drawing prompts as {@link #plan()} does. */
    static ExperimentPlan plan(ExperimentSettings settings) {
        return new ExperimentPlan(settings, ScriptedRoles::numberedPrompts, ScriptedRoles::numberedPrompts,
                prompt -> new int[] {Integer.parseInt(prompt.substring(1))}, List.of());
    }

    private static List<String> numberedPrompts(int count, long seed) {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            prompts.add("p" + i);
        }
        return prompts;
    }

    /** A minute for every step but a chunk, which gets {@code chunk} and {@code chunkAttempts} attempts. */
    static ExperimentTimeouts timeouts(Duration chunk, int chunkAttempts) {
        Duration minute = Duration.ofMinutes(1);
        return new ExperimentTimeouts(chunk, chunkAttempts, minute, minute, minute, minute, minute, minute, minute,
                minute, minute, minute);
    }

    static ExperimentCoordinator.Roles roles(List<Behavior<RolloutWorker.Command>> workers,
            Behavior<RewardScorerActor.Command> scorer, Behavior<LearnerActor.Command> learner,
            Behavior<PreferenceCollector.Command> collector, Behavior<RewardTrainerActor.Command> trainer) {
        return new ExperimentCoordinator.Roles(workers, scorer, learner, collector, trainer,
                DispatcherSelector.defaultDispatcher());
    }

    /** Generates at once; loads every version it is given. */
    static Behavior<RolloutWorker.Command> worker(String name) {
        AtomicLong version = new AtomicLong();
        return Behaviors.receive(RolloutWorker.Command.class)
                .onMessage(RolloutWorker.Generate.class, generate -> {
                    generate.replyTo().tell(StatusReply.success(rollout(name, generate, version.get())));
                    return Behaviors.same();
                })
                .onMessage(RolloutWorker.LoadWeights.class, load -> {
                    version.set(load.weights().version());
                    load.replyTo().tell(StatusReply.success(new RolloutWorker.WeightsLoaded(0, version.get())));
                    return Behaviors.same();
                })
                .build();
    }

    /** What {@code name} answers to {@code generate}. */
    static RolloutWorker.Rollout rollout(String name, RolloutWorker.Generate generate, long version) {
        List<Completion> completions = new ArrayList<>();
        for (GenerationRequest request : generate.requests()) {
            completions.add(new Completion(new int[] {1, 2}, new float[] {-1f, -1f}, FinishReason.LENGTH,
                    name + ":" + request.promptIds()[0]));
        }
        return new RolloutWorker.Rollout(generate.chunk(), 0, version, completions, 0.001);
    }

    static Behavior<RewardScorerActor.Command> scorer() {
        return Behaviors.receive(RewardScorerActor.Command.class)
                .onMessage(RewardScorerActor.Score.class, score -> {
                    score.replyTo().tell(StatusReply.success(new RewardScorerActor.Scored(score.chunk(), 1,
                            new float[score.pairs().size()], 0.001)));
                    return Behaviors.same();
                })
                .onMessage(RewardScorerActor.UseVersion.class, use -> {
                    use.replyTo().tell(StatusReply.success(new RewardScorerActor.VersionInUse(use.version())));
                    return Behaviors.same();
                })
                .build();
    }

    /** Each update publishes the next weight version. */
    static Behavior<LearnerActor.Command> learner() {
        AtomicLong version = new AtomicLong();
        return Behaviors.receive(LearnerActor.Command.class)
                .onMessage(LearnerActor.Learn.class, learn -> {
                    learn.replyTo().tell(StatusReply.success(new LearnerActor.Learned(learn.iteration(), 0.5,
                            Map.of("kl/to_reference", 0.5),
                            new PublishedWeights.OnLearnerNode(version.incrementAndGet()), 0.001)));
                    return Behaviors.same();
                })
                .onMessage(LearnerActor.MeasureKl.class, measure -> {
                    measure.replyTo().tell(StatusReply.success(
                            new LearnerActor.KlMeasured(new double[measure.completions().size()])));
                    return Behaviors.same();
                })
                .onMessage(LearnerActor.SaveCheckpoint.class, save -> {
                    save.replyTo().tell(StatusReply.success(new LearnerActor.CheckpointSaved(
                            save.state().iteration(), Path.of("checkpoints", "iter-" + save.state().iteration()))));
                    return Behaviors.same();
                })
                .build();
    }

    /**
     * Judges every comparison once, numbering judgments from 1: the panel as it answers a batch it judges, people
     * (for a batch they alone judge) right after it is answered.
     */
    static Behavior<PreferenceCollector.Command> collector() {
        AtomicLong sequence = new AtomicLong();
        return Behaviors.receive(PreferenceCollector.Command.class)
                .onMessage(PreferenceCollector.Collect.class, collect -> {
                    int made = collect.comparisons().size();
                    if (!collect.labeling().panel()) {
                        collect.replyTo().tell(StatusReply.success(new PreferenceCollector.Collected(0, -1)));
                        sequence.addAndGet(made);
                        return Behaviors.same();
                    }
                    collect.replyTo().tell(StatusReply.success(
                            new PreferenceCollector.Collected(made, sequence.addAndGet(made))));
                    return Behaviors.same();
                })
                .onMessage(PreferenceCollector.ReadLastSequence.class, read -> {
                    read.replyTo().tell(StatusReply.success(new PreferenceCollector.LastSequence(sequence.get())));
                    return Behaviors.same();
                })
                .onMessage(PreferenceCollector.ReadJudged.class, read -> {
                    read.replyTo().tell(StatusReply.success(
                            new PreferenceCollector.Judged(List.of(), read.throughSequence())));
                    return Behaviors.same();
                })
                .build();
    }

    /** Trains a tiny random reward model per version, in sub-managers of {@code manager}. */
    static Behavior<RewardTrainerActor.Command> trainer(NDManager manager) {
        return Behaviors.receive(RewardTrainerActor.Command.class)
                .onMessage(RewardTrainerActor.Train.class, train -> {
                    train.replyTo().tell(StatusReply.success(
                            new RewardTrainerActor.Trained(version(train.version(), manager), 0.001)));
                    return Behaviors.same();
                })
                .build();
    }

    /** A behaviour that throws on its first message. */
    static <T> Behavior<T> throwing(Class<T> protocol, String message) {
        return Behaviors.receive(protocol)
                .onAnyMessage(any -> {
                    throw new IllegalStateException(message);
                })
                .build();
    }

    private static RewardModelBuilder.Version version(int version, NDManager manager) {
        GptConfig config = GptConfig.of(16, 8, 8, 1, 1, -1);
        GptWeights trunk = GptWeights.random(config, false, manager.newSubManager(), version);
        Map<String, NDArray> tensors = new LinkedHashMap<>(trunk.tensors());
        for (TensorSpec head : RewardModel.headSpecs(config)) {
            NDArray values = trunk.manager().zeros(head.memoryShape(), DataType.FLOAT32);
            values.setName(head.name());
            tensors.put(head.name(), values);
        }
        RewardModel model = RewardModel.of(new GptWeights(config, trunk.manager(), tensors));
        RewardModelInfo info = new RewardModelInfo(version, -1, RewardNormalizer.IDENTITY,
                Map.of("accuracy_against_gold", 0.5), List.of());
        return new RewardModelBuilder.Version(model, null, info);
    }
}
