package dev.rlhf.actors;

import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.Generator;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * Holds a copy of the policy at a known weight version and generates completions with it. Every rollout it
 * returns carries the version that produced it, so no caller mixes versions without knowing. A generation that
 * fails is answered with an error reply at once (so the caller can retry elsewhere without waiting out a timeout)
 * and then fails the worker, for its supervisor to restart it.
 */
public final class RolloutWorker extends AbstractBehavior<RolloutWorker.Command> {

    /** What a rollout worker handles: {@link Generate} and {@link LoadWeights}, from any implementation of it. */
    public sealed interface Command permits Generate, LoadWeights, Internal {}

    /**
     * An implementation's own messages (a remote worker's proxy gets its gRPC answers as these); callers send only
     * {@link Generate} and {@link LoadWeights}.
     */
    public non-sealed interface Internal extends Command {}

    /**
     * Generates one completion per request.
     *
     * @param chunk the caller's id for this share of the iteration's prompts
     */
    public record Generate(int chunk, List<GenerationRequest> requests, ActorRef<StatusReply<Rollout>> replyTo)
            implements Command {}

    /**
     * Replaces the weights with a published version (a snapshot is shared read-only by every worker it is sent to;
     * a version on the learner node only reaches rollout nodes, see {@link PublishedWeights.OnLearnerNode}).
     */
    public record LoadWeights(PublishedWeights weights, ActorRef<StatusReply<WeightsLoaded>> replyTo)
            implements Command {}

    /** The completions of a {@link Generate}, in request order, and the weight version that produced them. */
    public record Rollout(int chunk, int worker, long weightVersion, List<Completion> completions, double seconds) {}

    /** Acknowledges a {@link LoadWeights}. */
    public record WeightsLoaded(int worker, long weightVersion) {}

    private final int id;
    private final PolicyReplica replica;
    private final Generator generator;

    private RolloutWorker(ActorContext<Command> context, int id, PolicyReplica replica) {
        super(context);
        this.id = id;
        this.replica = replica;
        TextTokenizer tokenizer = replica.tokenizer();
        this.generator = new Generator(replica.model(), tokenizer::decode);
    }

    /**
     * @param replicas makes this worker's private copy of the policy (called again after a restart)
     */
    public static Behavior<Command> create(int id, PolicyReplica.Factory replicas) {
        return Behaviors.setup(context -> new RolloutWorker(context, id, replicas.create()));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Generate.class, this::onGenerate)
                .onMessage(LoadWeights.class, this::onLoadWeights)
                .onSignal(PostStop.class, signal -> onStop())
                .onSignal(PreRestart.class, signal -> onStop()) // the restarted worker builds a fresh replica
                .build();
    }

    private Behavior<Command> onGenerate(Generate message) {
        long start = System.nanoTime();
        List<Completion> completions;
        try {
            completions = generator.generate(message.requests());
        } catch (RuntimeException e) {
            message.replyTo().tell(StatusReply.error("worker " + id + " failed on chunk " + message.chunk() + ": " + e));
            throw e;
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        getContext().getLog().debug("worker {} generated chunk {} ({} sequences) with weights v{} in {} s",
                id, message.chunk(), completions.size(), replica.version(), seconds);
        message.replyTo().tell(StatusReply.success(
                new Rollout(message.chunk(), id, replica.version(), completions, seconds)));
        return this;
    }

    private Behavior<Command> onLoadWeights(LoadWeights message) {
        try {
            replica.load(message.weights().inProcess());
        } catch (RuntimeException e) {
            message.replyTo().tell(StatusReply.error("worker " + id + " failed to load weights v"
                    + message.weights().version() + ": " + e));
            throw e;
        }
        message.replyTo().tell(StatusReply.success(new WeightsLoaded(id, replica.version())));
        return this;
    }

    private Behavior<Command> onStop() {
        replica.close();
        return this;
    }

    /** The worker's own copy of the policy weights (and the tokenizer it decodes with). */
    public interface PolicyReplica extends AutoCloseable {
        GptModel model();

        TextTokenizer tokenizer();

        long version();

        void load(WeightsSnapshot snapshot);

        @Override
        void close();

        /** Makes a fresh replica at the latest published version. */
        @FunctionalInterface
        interface Factory {
            PolicyReplica create();
        }
    }
}
