package dev.rlhf.actors;

import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.rewardmodel.RewardScorer;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * The RewardScorer role: scores completions with one reward-model version, normalised for PPO. A scoring that
 * fails is answered with an error at once and then fails the actor (its supervisor stops it: the version it held
 * is the coordinator's to give again).
 */
public final class RewardScorerActor extends AbstractBehavior<RewardScorerActor.Command> {

    /** What the scorer handles: {@link Score} and {@link UseVersion}, from any implementation of it. */
    public sealed interface Command permits Score, UseVersion, Internal {}

    /**
     * An implementation's own messages (the proxy of remote reward nodes gets its gRPC answers as these); callers
     * send only {@link Score} and {@link UseVersion}.
     */
    public non-sealed interface Internal extends Command {}

    /** Scores one chunk of (prompt, response) pairs. */
    public record Score(int chunk, List<PromptResponse> pairs, ActorRef<StatusReply<Scored>> replyTo)
            implements Command {}

    /**
     * Switches to another reward-model version (the coordinator does so only at an iteration boundary); the caller
     * keeps owning {@code scorer}'s model and closes it only once another version is in use.
     */
    public record UseVersion(int version, RewardScorer scorer, ActorRef<StatusReply<VersionInUse>> replyTo)
            implements Command {}

    /** Normalised scores of a chunk, in pair order, and the reward-model version that gave them. */
    public record Scored(int chunk, int rewardModelVersion, float[] scores, double seconds) {}

    /** Acknowledges a {@link UseVersion}: the previous version is no longer used. */
    public record VersionInUse(int version) {}

    private RewardScorer scorer;
    private int version;

    private RewardScorerActor(ActorContext<Command> context) {
        super(context);
    }

    /** A scorer with no version yet: it scores once it is given one. */
    public static Behavior<Command> create() {
        return Behaviors.setup(RewardScorerActor::new);
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Score.class, this::onScore)
                .onMessage(UseVersion.class, this::onUseVersion)
                .build();
    }

    private Behavior<Command> onScore(Score message) {
        long start = System.nanoTime();
        double[] scores;
        try {
            if (scorer == null) {
                throw new IllegalStateException("no reward-model version in use");
            }
            scores = scorer.scores(message.pairs());
        } catch (RuntimeException e) {
            message.replyTo().tell(StatusReply.error("scoring chunk " + message.chunk() + " with reward model v"
                    + version + ": " + e));
            throw e;
        }
        float[] asFloats = new float[scores.length];
        for (int i = 0; i < scores.length; i++) {
            asFloats[i] = (float) scores[i];
        }
        message.replyTo().tell(StatusReply.success(
                new Scored(message.chunk(), version, asFloats, (System.nanoTime() - start) / 1e9)));
        return this;
    }

    private Behavior<Command> onUseVersion(UseVersion message) {
        version = message.version();
        scorer = message.scorer();
        getContext().getLog().info("reward scorer now uses reward model v{}", version);
        message.replyTo().tell(StatusReply.success(new VersionInUse(version)));
        return this;
    }
}
