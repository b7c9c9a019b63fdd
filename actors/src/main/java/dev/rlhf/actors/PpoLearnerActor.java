package dev.rlhf.actors;

import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.policy.generate.Completion;
import java.nio.file.Path;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The PpoLearner role: the trainable policy and value head, the frozen reference, the optimiser and the KL
 * controller. Each scored batch becomes one PPO update and a new published weight version.
 */
public final class PpoLearnerActor extends AbstractBehavior<PpoLearnerActor.Command> {

    /** What the learner handles. */
    public sealed interface Command permits Learn, MeasureKl, SaveCheckpoint {}

    /**
     * One PPO update.
     *
     * @param prompts prompt token ids, one per completion
     * @param scores normalised reward-model scores, one per completion
     */
    public record Learn(int iteration, List<int[]> prompts, List<Completion> completions, float[] scores,
            ActorRef<Learned> replyTo) implements Command {}

    /** Measures each completion's KL to the reference under the current policy (see PolicyLearner#klToReference). */
    public record MeasureKl(List<int[]> prompts, List<Completion> completions, ActorRef<KlMeasured> replyTo)
            implements Command {}

    /** The answer to {@link MeasureKl}: one KL (nats) per completion, in order. */
    public record KlMeasured(double[] perCompletion) {}

    /** Writes a resumable checkpoint of the learner's state. */
    public record SaveCheckpoint(RunCheckpoint.State state, ActorRef<CheckpointSaved> replyTo) implements Command {}

    /** The outcome of a {@link Learn}. */
    public record Learned(int iteration, PolicyLearner.Update update, double seconds) {}

    /** A checkpoint was written to {@code path}, or failed with the reason {@code failure}. */
    public record CheckpointSaved(int iteration, Path path, String failure) {}

    private final PolicyLearner learner;
    private final RunCheckpoint checkpoints;

    private PpoLearnerActor(ActorContext<Command> context, PolicyLearner learner, RunCheckpoint checkpoints) {
        super(context);
        this.learner = learner;
        this.checkpoints = checkpoints;
    }

    /** Takes ownership of {@code learner}; closes it when stopped. */
    public static Behavior<Command> create(PolicyLearner learner, RunCheckpoint checkpoints) {
        return Behaviors.setup(context -> new PpoLearnerActor(context, learner, checkpoints));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Learn.class, this::onLearn)
                .onMessage(MeasureKl.class, this::onMeasureKl)
                .onMessage(SaveCheckpoint.class, this::onSaveCheckpoint)
                .onSignal(PostStop.class, signal -> {
                    learner.close();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onLearn(Learn message) {
        long start = System.nanoTime();
        PolicyLearner.Update update = learner.learn(message.prompts(), message.completions(), message.scores());
        message.replyTo().tell(new Learned(message.iteration(), update, (System.nanoTime() - start) / 1e9));
        return this;
    }

    private Behavior<Command> onMeasureKl(MeasureKl message) {
        message.replyTo().tell(new KlMeasured(learner.klToReference(message.prompts(), message.completions())));
        return this;
    }

    private Behavior<Command> onSaveCheckpoint(SaveCheckpoint message) {
        String failure = null;
        Path path = null;
        try {
            path = checkpoints.save(learner, message.state());
        } catch (java.io.IOException | RuntimeException e) {
            getContext().getLog().error("checkpoint of iteration {} failed", message.state().iteration(), e);
            failure = e.toString();
        }
        message.replyTo().tell(new CheckpointSaved(message.state().iteration(), path, failure));
        return this;
    }
}
