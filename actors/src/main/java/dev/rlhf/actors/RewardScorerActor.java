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

/** The RewardScorer role: scores completions with one reward-model version, normalised for PPO. */
public final class RewardScorerActor extends AbstractBehavior<RewardScorerActor.Command> {

    /** What the scorer handles. */
    public sealed interface Command permits Score, UseVersion {}

    /** Scores one chunk of (prompt, response) pairs. */
    public record Score(int chunk, List<PromptResponse> pairs, ActorRef<Scored> replyTo) implements Command {}

    /** Switches to another reward-model version (the coordinator does so only at an iteration boundary). */
    public record UseVersion(int version, RewardScorer scorer, ActorRef<VersionInUse> replyTo) implements Command {}

    /** Normalised scores of a chunk, in pair order, and the reward-model version that gave them. */
    public record Scored(int chunk, int rewardModelVersion, float[] scores, double seconds) {}

    /** Acknowledges a {@link UseVersion}. */
    public record VersionInUse(int version) {}

    private RewardScorer scorer;
    private int version;

    private RewardScorerActor(ActorContext<Command> context, int version, RewardScorer scorer) {
        super(context);
        this.version = version;
        this.scorer = scorer;
    }

    public static Behavior<Command> create(int version, RewardScorer scorer) {
        return Behaviors.setup(context -> new RewardScorerActor(context, version, scorer));
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
        double[] scores = scorer.scores(message.pairs());
        float[] asFloats = new float[scores.length];
        for (int i = 0; i < scores.length; i++) {
            asFloats[i] = (float) scores[i];
        }
        message.replyTo().tell(new Scored(message.chunk(), version, asFloats, (System.nanoTime() - start) / 1e9));
        return this;
    }

    private Behavior<Command> onUseVersion(UseVersion message) {
        version = message.version();
        scorer = message.scorer();
        getContext().getLog().info("reward scorer now uses reward model v{}", version);
        message.replyTo().tell(new VersionInUse(version));
        return this;
    }
}
