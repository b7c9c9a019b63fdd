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

/**
 * The PreferenceCollector role: owns the preference store and its labeling queue. Comparison tasks go in,
 * annotators (here the simulated panel, through the same store calls the labeling UI makes) judge them, every
 * judgment is durable before it counts, and once enough new judgments have arrived the collector says so.
 */
public final class PreferenceCollector extends AbstractBehavior<PreferenceCollector.Command> {

    /** What the collector handles. */
    public sealed interface Command permits Collect, ReadJudged {}

    /** Stores comparison tasks for labeling and has them judged. */
    public record Collect(String batchId, List<Comparison> comparisons, String policyVersion,
            ActorRef<Collected> replyTo) implements Command {}

    /** Reads every judged comparison after a sequence number (for reward-model training). */
    public record ReadJudged(long afterSequence, ActorRef<Judged> replyTo) implements Command {}

    /**
     * @param newJudgments judgments made for this batch
     * @param sinceTraining judgments after {@code trainedThrough} of the collector so far
     * @param enough whether {@code sinceTraining} has reached the retraining threshold
     * @param lastSequence the newest judgment's sequence number
     */
    public record Collected(String batchId, int newJudgments, long sinceTraining, boolean enough,
            long lastSequence) {}

    /** Judged comparisons, in sequence order. */
    public record Judged(List<JudgedComparison> comparisons, long lastSequence) {}

    private final PreferenceLoop loop;
    private final int retrainAfter;
    /** Judgments up to this sequence number have been handed to a reward-model training. */
    private long trainedThrough;

    private PreferenceCollector(ActorContext<Command> context, PreferenceLoop loop, int retrainAfter,
            long trainedThrough) {
        super(context);
        this.loop = loop;
        this.retrainAfter = retrainAfter;
        this.trainedThrough = trainedThrough;
    }

    /**
     * @param retrainAfter new judgments that make a retraining worthwhile
     * @param trainedThrough sequence number the current reward model was trained through
     */
    public static Behavior<Command> create(PreferenceLoop loop, int retrainAfter, long trainedThrough) {
        return Behaviors.setup(context -> new PreferenceCollector(context, loop, retrainAfter, trainedThrough));
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
        long last = loop.lastSequence();
        long since = last - trainedThrough;
        message.replyTo().tell(new Collected(message.batchId(), made, since, since >= retrainAfter, last));
        return this;
    }

    private Behavior<Command> onReadJudged(ReadJudged message) {
        List<JudgedComparison> judged = loop.judgedSince(message.afterSequence());
        long last = judged.isEmpty() ? message.afterSequence() : judged.get(judged.size() - 1).sequence();
        trainedThrough = Math.max(trainedThrough, last);
        message.replyTo().tell(new Judged(judged, last));
        return this;
    }
}
