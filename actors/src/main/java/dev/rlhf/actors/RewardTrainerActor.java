package dev.rlhf.actors;

import ai.djl.ndarray.NDManager;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.rewardmodel.JudgedComparison;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/** Trains reward-model versions in the background, on its own thread, while the loop goes on. */
public final class RewardTrainerActor extends AbstractBehavior<RewardTrainerActor.Command> {

    /** What the trainer handles. */
    public sealed interface Command permits Train {}

    /** Trains version {@code version} on {@code judged}, continuing from {@code previous} (null for the first). */
    public record Train(int version, RewardModelBuilder.Version previous, List<JudgedComparison> judged,
            ActorRef<Trained> replyTo) implements Command {}

    /** A trained version, or the reason training failed. */
    public record Trained(int version, RewardModelBuilder.Version result, String failure, double seconds) {}

    private final RewardModelBuilder builder;
    private final NDManager manager;

    private RewardTrainerActor(ActorContext<Command> context, RewardModelBuilder builder, NDManager manager) {
        super(context);
        this.builder = builder;
        this.manager = manager;
    }

    /** Versions live in sub-managers of {@code manager}; whoever retires a version closes it. */
    public static Behavior<Command> create(RewardModelBuilder builder, NDManager manager) {
        return Behaviors.setup(context -> new RewardTrainerActor(context, builder, manager));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(Train.class, this::onTrain).build();
    }

    private Behavior<Command> onTrain(Train message) {
        long start = System.nanoTime();
        RewardModelBuilder.Version result = null;
        String failure = null;
        try {
            result = builder.train(message.version(), message.previous(), message.judged(), manager);
            getContext().getLog().info("reward model v{} trained on {} judgments: {}", message.version(),
                    message.judged().size(), result.info().metrics());
        } catch (java.io.IOException | RuntimeException e) {
            getContext().getLog().error("reward model v{} failed to train", message.version(), e);
            failure = e.toString();
        }
        message.replyTo().tell(new Trained(message.version(), result, failure, (System.nanoTime() - start) / 1e9));
        return this;
    }
}
