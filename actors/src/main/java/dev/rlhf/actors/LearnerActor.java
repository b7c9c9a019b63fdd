package dev.rlhf.actors;

import dev.rlhf.policy.generate.Completion;
import dev.rlhf.rewardmodel.JudgedComparison;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * The learner role: the trainable policy, the frozen reference and the optimiser of the run's {@link Algorithm}
 * (PPO's value head and KL controller too). Each scored batch becomes one update and a new published weight
 * version. An update or a KL
 * measurement that throws leaves the learner's state unknown: it answers with the error and fails, and its
 * supervisor stops it (the run's last checkpoint is where it resumes). A checkpoint that cannot be written is
 * only answered with the error: the state is intact.
 */
public final class LearnerActor extends AbstractBehavior<LearnerActor.Command> {

    /** What the learner handles, from any implementation of it. */
    public sealed interface Command permits Learn, UsePreferences, MeasureKl, SaveCheckpoint, Close, Internal {}

    /**
     * An implementation's own messages (a remote learner's proxy gets its gRPC answers as these); callers send only
     * the other commands.
     */
    public non-sealed interface Internal extends Command {}

    /**
     * One update.
     *
     * @param prompts prompt token ids, one per completion
     * @param scores normalised reward-model scores, one per completion
     */
    public record Learn(int iteration, List<int[]> prompts, List<Completion> completions, float[] scores,
            ActorRef<StatusReply<Learned>> replyTo) implements Command {}

    /**
     * The judged comparisons an offline algorithm (DPO, IPO) trains on from its next update on (see
     * PreferenceOnlineLearner#usePreferences); sent once they are read, before the first {@link Learn}. No answer: one that
     * fails fails the learner, which ends the run.
     */
    public record UsePreferences(List<JudgedComparison> judged) implements Command {}

    /** Measures each completion's KL to the reference under the current policy (see OnlineLearner#klToReference). */
    public record MeasureKl(List<int[]> prompts, List<Completion> completions,
            ActorRef<StatusReply<KlMeasured>> replyTo) implements Command {}

    /** The answer to {@link MeasureKl}: one KL (nats) per completion, in order. */
    public record KlMeasured(double[] perCompletion) {}

    /** Writes a resumable checkpoint of the learner's state. */
    public record SaveCheckpoint(RunCheckpoint.State state, ActorRef<StatusReply<CheckpointSaved>> replyTo)
            implements Command {}

    /** Stops the learner, releasing its tensors: a learner node's next run replaces it. */
    public record Close() implements Command {}

    /**
     * The outcome of a {@link Learn}: the update's statistics (see {@link OnlineLearner.Update}) and the weight
     * version it published.
     */
    public record Learned(int iteration, double klToReference, Map<String, Double> scalars, PublishedWeights weights,
            double seconds) {}

    /** The checkpoint after {@code iteration} iterations is on disk at {@code path}. */
    public record CheckpointSaved(int iteration, Path path) {}

    private final OnlineLearner learner;
    private final RunCheckpoint checkpoints;

    private LearnerActor(ActorContext<Command> context, OnlineLearner learner, RunCheckpoint checkpoints) {
        super(context);
        this.learner = learner;
        this.checkpoints = checkpoints;
    }

    /** Takes ownership of {@code learner}; closes it when stopped. */
    public static Behavior<Command> create(OnlineLearner learner, RunCheckpoint checkpoints) {
        return Behaviors.setup(context -> new LearnerActor(context, learner, checkpoints));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Learn.class, this::onLearn)
                .onMessage(UsePreferences.class, this::onUsePreferences)
                .onMessage(MeasureKl.class, this::onMeasureKl)
                .onMessage(SaveCheckpoint.class, this::onSaveCheckpoint)
                .onMessage(Close.class, close -> Behaviors.stopped())
                .onSignal(PostStop.class, signal -> {
                    learner.close();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onLearn(Learn message) {
        long start = System.nanoTime();
        OnlineLearner.Update update;
        try {
            update = learner.learn(message.prompts(), message.completions(), message.scores());
        } catch (RuntimeException e) {
            message.replyTo().tell(StatusReply.error("update of iteration " + message.iteration() + ": " + e));
            throw e;
        }
        message.replyTo().tell(StatusReply.success(new Learned(message.iteration(), update.klToReference(),
                update.scalars(), new PublishedWeights.InProcess(update.snapshot()),
                (System.nanoTime() - start) / 1e9)));
        return this;
    }

    private Behavior<Command> onUsePreferences(UsePreferences message) {
        // the coordinator sends judgments only to an offline algorithm's learner
        if (!(learner instanceof PreferenceOnlineLearner offline)) {
            throw new IllegalStateException(learner.algorithm().key() + " learns from rollouts, not from judgments");
        }
        offline.usePreferences(message.judged());
        getContext().getLog().info("{} trains on the {} judgments of the initial comparisons",
                learner.algorithm().key(), message.judged().size());
        return this;
    }

    private Behavior<Command> onMeasureKl(MeasureKl message) {
        double[] kl;
        try {
            kl = learner.klToReference(message.prompts(), message.completions());
        } catch (RuntimeException e) {
            message.replyTo().tell(StatusReply.error("measuring the KL to the reference: " + e));
            throw e;
        }
        message.replyTo().tell(StatusReply.success(new KlMeasured(kl)));
        return this;
    }

    private Behavior<Command> onSaveCheckpoint(SaveCheckpoint message) {
        int iteration = message.state().iteration();
        try {
            Path path = checkpoints.save(learner, message.state());
            message.replyTo().tell(StatusReply.success(new CheckpointSaved(iteration, path)));
        } catch (IOException | RuntimeException e) {
            getContext().getLog().error("checkpoint of iteration {} failed", iteration, e);
            message.replyTo().tell(StatusReply.error("checkpoint of iteration " + iteration + ": " + e));
        }
        return this;
    }
}
