package dev.rlhf.actors;

import ai.djl.ndarray.NDManager;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import java.io.IOException;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * Trains reward-model versions in the background, on its own thread, while the loop goes on. A training that
 * fails is answered with the error; the trainer keeps no state between trainings.
 */
public final class RewardTrainerActor extends AbstractBehavior<RewardTrainerActor.Command> {

    /** What the trainer handles. */
    public sealed interface Command permits Train {}

    /**
     * Trains version {@code version} on {@code judged}, continuing from {@code previous} (null for the first),
     * which the trainer only reads.
     */
    public record Train(int version, RewardModelBuilder.Version previous, List<JudgedComparison> judged,
            ActorRef<StatusReply<Trained>> replyTo) implements Command {}

    /** A trained version, which the receiver owns (and closes once it no longer uses it). */
    public record Trained(RewardModelBuilder.Version result, double seconds) {}

    private final RewardModelBuilder builder;
    private final NDManager manager;

    private RewardTrainerActor(ActorContext<Command> context, RewardModelBuilder builder, NDManager manager) {
        super(context);
        this.builder = builder;
        this.manager = manager;
    }

    /** Versions live in sub-managers of {@code manager}. */
    public static Behavior<Command> create(RewardModelBuilder builder, NDManager manager) {
        return Behaviors.setup(context -> new RewardTrainerActor(context, builder, manager));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder().onMessage(Train.class, this::onTrain).build();
    }

    private Behavior<Command> onTrain(Train message) {
        long start = System.nanoTime();
        try {
            RewardModelBuilder.Version result =
                    builder.train(message.version(), message.previous(), message.judged(), manager);
            getContext().getLog().info("reward model v{} trained on {} judgments: {}", message.version(),
                    message.judged().size(), result.info().metrics());
            message.replyTo().tell(StatusReply.success(new Trained(result, (System.nanoTime() - start) / 1e9)));
        } catch (IOException | RuntimeException e) {
            getContext().getLog().error("reward model v{} failed to train", message.version(), e);
            message.replyTo().tell(StatusReply.error("training reward model v" + message.version() + ": " + e));
        }
        return this;
    }
}
