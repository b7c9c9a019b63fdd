package dev.rlhf.actors;

import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.pattern.StatusReply;

/**
 * The PreferenceCollector role: owns the preference store and its labeling queue. Comparison tasks go in,
 * annotators (here the simulated panel, through the store's task assignment and judgment calls, as the labeling
 * UI makes them) judge them, every judgment is durable before it counts; the coordinator reads them back to train
 * reward models.
 *
 * <p>A {@link Collect} runs as a chain of store futures and never blocks the actor's thread: each annotator's
 * judgments go to the store together and share its group commit, and prompt reads and judging run on the actor's
 * dispatcher (the tensor dispatcher in an experiment) between messages. One Collect runs at a time; messages that
 * arrive meanwhile wait in a stash and are handled in arrival order once it is answered, so a {@link ReadJudged}
 * sees the judgments of every Collect sent before it, and batches are judged (and their judgments numbered) in the
 * order they were sent. A failure answers the caller with a {@link StatusReply} error that names the batch and the
 * cause; the actor keeps no state beyond the store and goes on with the next message. {@link ReadJudged} reads the
 * store synchronously in its handler, which the tensor dispatcher allows.
 */
public final class PreferenceCollector extends AbstractBehavior<PreferenceCollector.Command> {

    /** Requests that may wait while a Collect runs; more are answered with an error at once. */
    static final int STASH_CAPACITY = 1024;

    /** What the collector handles. */
    public sealed interface Command permits Collect, ReadJudged, CollectFinished {}

    /** Stores comparison tasks for labeling and has them judged. */
    public record Collect(String batchId, List<Comparison> comparisons, String policyVersion,
            ActorRef<StatusReply<Collected>> replyTo) implements Command {}

    /** Reads every judged comparison after a sequence number up to another (for reward-model training). */
    public record ReadJudged(long afterSequence, long throughSequence, ActorRef<StatusReply<Judged>> replyTo)
            implements Command {}

    /**
     * @param newJudgments judgments made for this batch now (0 when a resumed run re-sends a judged batch)
     * @param lastSequence the newest sequence number among this batch's judgments, -1 if it has none
     */
    public record Collected(int newJudgments, long lastSequence) {}

    /** Judged comparisons, in sequence order. */
    public record Judged(List<JudgedComparison> comparisons, long lastSequence) {}

    /** The running Collect's chain ended: exactly one of {@code collected} and {@code failure} is set. */
    private record CollectFinished(Collect request, Collected collected, Throwable failure) implements Command {}

    private final PreferenceLoop loop;
    private final StashBuffer<Command> waiting;
    /** Where the chain's blocking steps (store reads, judging) run: this actor's own dispatcher. */
    private final Executor blocking;
    /** The behavior while a Collect runs. */
    private final Behavior<Command> collecting;

    private PreferenceCollector(ActorContext<Command> context, StashBuffer<Command> waiting, PreferenceLoop loop) {
        super(context);
        this.loop = loop;
        this.waiting = waiting;
        this.blocking = context.getExecutionContext();
        this.collecting = Behaviors.receive(Command.class)
                .onMessage(CollectFinished.class, this::onCollectFinished)
                .onAnyMessage(this::onRequestWhileCollecting)
                .build();
    }

    public static Behavior<Command> create(PreferenceLoop loop) {
        return Behaviors.withStash(STASH_CAPACITY,
                waiting -> Behaviors.setup(context -> new PreferenceCollector(context, waiting, loop)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Collect.class, this::onCollect)
                .onMessage(ReadJudged.class, this::onReadJudged)
                .build();
    }

    private Behavior<Command> onCollect(Collect message) {
        CompletableFuture<Collected> collected;
        try {
            collected = collect(message);
        } catch (RuntimeException e) {
            collected = CompletableFuture.failedFuture(e);
        }
        getContext().pipeToSelf(collected, (done, failure) -> new CollectFinished(message, done, failure));
        return collecting;
    }

    /** Stores the batch, has every annotator judge what the store hands it, and reads the batch's newest sequence. */
    private CompletableFuture<Collected> collect(Collect message) {
        String batchId = message.batchId();
        int size = message.comparisons().size();
        return loop.submitAsync(batchId, message.comparisons(), message.policyVersion())
                .thenComposeAsync(stored -> loop.labelAsync(blocking), blocking)
                .thenApplyAsync(made -> new Collected(made, loop.newestJudgmentOf(batchId, size)), blocking);
    }

    private Behavior<Command> onCollectFinished(CollectFinished finished) {
        Collect request = finished.request();
        if (finished.failure() == null) {
            request.replyTo().tell(StatusReply.success(finished.collected()));
        } else {
            Throwable cause = unwrap(finished.failure());
            getContext().getLog().warn("Collecting batch {} failed", request.batchId(), cause);
            request.replyTo().tell(StatusReply.error(
                    "collecting batch " + request.batchId() + " failed: " + describe(cause)));
        }
        return waiting.unstashAll(this);
    }

    private Behavior<Command> onRequestWhileCollecting(Command message) {
        if (!waiting.isFull()) {
            waiting.stash(message);
        } else if (message instanceof Collect collect) {
            collect.replyTo().tell(StatusReply.error("collector busy: batch " + collect.batchId() + " refused, "
                    + STASH_CAPACITY + " requests already waiting"));
        } else if (message instanceof ReadJudged read) {
            read.replyTo().tell(StatusReply.error("collector busy: reading judgments through #"
                    + read.throughSequence() + " refused, " + STASH_CAPACITY + " requests already waiting"));
        }
        return Behaviors.same();
    }

    private Behavior<Command> onReadJudged(ReadJudged message) {
        List<JudgedComparison> judged;
        try {
            judged = loop.judgedBetween(message.afterSequence(), message.throughSequence());
        } catch (RuntimeException e) {
            getContext().getLog().warn("Reading judgments after #{} through #{} failed", message.afterSequence(),
                    message.throughSequence(), e);
            message.replyTo().tell(StatusReply.error("reading judgments after #" + message.afterSequence()
                    + " through #" + message.throughSequence() + " failed: " + describe(e)));
            return this;
        }
        long last = judged.isEmpty() ? message.afterSequence() : judged.get(judged.size() - 1).sequence();
        message.replyTo().tell(StatusReply.success(new Judged(judged, last)));
        return this;
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static String describe(Throwable cause) {
        return cause.getMessage() != null ? cause.getMessage() : cause.getClass().getName();
    }
}
