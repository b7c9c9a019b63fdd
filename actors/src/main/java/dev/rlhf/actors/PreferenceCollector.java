package dev.rlhf.actors;

import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * The PreferenceCollector role: owns the preference store and its labeling queue. Comparison tasks go in,
 * annotators (here the simulated panel, through the same store calls the labeling UI makes) judge them, every
 * judgment is durable before it counts; the coordinator reads them back to train reward models.
 */
public final class PreferenceCollector extends AbstractBehavior<PreferenceCollector.Command> {

    /** What the collector handles. */
    public sealed interface Command permits Collect, ReadJudged {}

    /** Stores comparison tasks for labeling and has them judged. */
    public record Collect(String batchId, List<Comparison> comparisons, String policyVersion,
            ActorRef<StatusReply<Collected>> replyTo) implements Command {}

    /** Reads every judged comparison after a sequence number up to another (for reward-model training). */
    public record ReadJudged(long afterSequence, long throughSequence, ActorRef<StatusReply<Judged>> replyTo) implements Command {}

    /**
     * @param newJudgments judgments made for this batch now (0 when a resumed run re-sends a judged batch)
     * @param lastSequence the newest sequence number among this batch's judgments, -1 if it has none
     */
    public record Collected(int newJudgments, long lastSequence) {}

    /** Judged comparisons, in sequence order. */
    public record Judged(List<JudgedComparison> comparisons, long lastSequence) {}

    private final PreferenceLoop loop;

    private PreferenceCollector(ActorContext<Command> context, PreferenceLoop loop) {
        super(context);
        this.loop = loop;
    }

    public static Behavior<Command> create(PreferenceLoop loop) {
        return Behaviors.setup(context -> new PreferenceCollector(context, loop));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Collect.class, this::onCollect)
                .onMessage(ReadJudged.class, this::onReadJudged)
                .build();
    }

    private Behavior<Command> onCollect(Collect message) {
        loop.submit(message.batchId(), message.comparisons(), message.policyVersion());
        int made = loop.label();
        message.replyTo().tell(StatusReply.success(new Collected(made,
                loop.newestJudgmentOf(message.batchId(), message.comparisons().size()))));
        return this;
    }

    private Behavior<Command> onReadJudged(ReadJudged message) {
        List<JudgedComparison> judged = loop.judgedBetween(message.afterSequence(), message.throughSequence());
        long last = judged.isEmpty() ? message.afterSequence() : judged.get(judged.size() - 1).sequence();
        message.replyTo().tell(StatusReply.success(new Judged(judged, last)));
        return this;
    }
}
