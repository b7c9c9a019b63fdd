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
 * annotators (the simulated panel, through the store's task assignment and judgment calls, as the labeling UI makes
 * them, and people through the labeling UI itself) judge them, every judgment is durable before it counts; the
 * coordinator reads them back to train reward models. Each {@link Collect} says who judges its batch ({@link
 * Labeling}): a batch for people alone is answered once its tasks are durable, and their judgments arrive later,
 * which the coordinator learns by asking for the store's newest sequence number ({@link ReadLastSequence}).
 *
 * <p>A {@link Collect} runs as a chain of store futures and never blocks the actor's thread: each annotator's
 * judgments go to the store together and share its group commit, and prompt reads and judging run on the actor's
 * dispatcher (the tensor dispatcher in an experiment) between messages. One Collect runs at a time; messages that
 * arrive meanwhile wait in a stash and are handled in arrival order once it is answered, so a {@link ReadJudged}
 * sees the judgments of every Collect sent before it, and batches are judged (and their judgments numbered) in the
 * order they were sent. A failure answers the caller with a {@link StatusReply} error that names the batch and the
 * cause; the actor keeps no state beyond the store and goes on with the next message. {@link ReadJudged} reads the
 * store synchronously in its handler, which the tensor dispatcher allows, and so does {@link ReadLastSequence}.
 */
public final class PreferenceCollector extends AbstractBehavior<PreferenceCollector.Command> {

    /** Requests that may wait while a Collect runs; more are answered with an error at once. */
    static final int STASH_CAPACITY = 1024;

    /** What the collector handles: {@link Collect}, {@link ReadJudged}, {@link ReadLastSequence}. */
    public sealed interface Command permits Collect, ReadJudged, ReadLastSequence, Internal {}

    /**
     * An implementation's own messages (this actor's finished chains, the remote collector's gRPC answers); callers
     * send only the three requests.
     */
    public non-sealed interface Internal extends Command {}

    /**
     * Who judges a batch's tasks: the simulated panel (each task then wants the store's {@code
     * annotations-per-task}, the panel's share), {@code people} through the labeling queue, or both (each task
     * then wants the panel's share plus {@code people}).
     */
    public record Labeling(boolean panel, int people) {
        /** The simulated panel alone, as every batch of a simulated run. */
        public static final Labeling PANEL = new Labeling(true, 0);

        public Labeling {
            if (people < 0 || (!panel && people == 0)) {
                throw new IllegalArgumentException("a batch needs the panel or at least one person to judge it, "
                        + "but got panel " + panel + " and " + people + " people");
            }
        }

        /** {@code people} through the labeling queue and nothing simulated. */
        public static Labeling people(int people) {
            return new Labeling(false, people);
        }

        /** The panel's share and {@code people} more. */
        public static Labeling panelAndPeople(int people) {
            return new Labeling(true, people);
        }

        /** The annotations_needed of each task, given the panel's share (0 leaves the store's default). */
        int annotationsNeeded(int panelShare) {
            if (!panel) {
                return people;
            }
            return people == 0 ? 0 : panelShare + people;
        }
    }

    /** Stores comparison tasks for labeling and has them judged as {@code labeling} says. */
    public record Collect(String batchId, List<Comparison> comparisons, String policyVersion, Labeling labeling,
            ActorRef<StatusReply<Collected>> replyTo) implements Command {

        /** A batch the simulated panel judges. */
        public Collect(String batchId, List<Comparison> comparisons, String policyVersion,
                ActorRef<StatusReply<Collected>> replyTo) {
            this(batchId, comparisons, policyVersion, Labeling.PANEL, replyTo);
        }
    }

    /** Reads every judged comparison after a sequence number up to another (for reward-model training). */
    public record ReadJudged(long afterSequence, long throughSequence, ActorRef<StatusReply<Judged>> replyTo)
            implements Command {}

    /**
     * Reads the store's newest judgment sequence number, whoever judged: how the coordinator learns that people's
     * judgments arrived. Answered after every Collect sent before it.
     */
    public record ReadLastSequence(ActorRef<StatusReply<LastSequence>> replyTo) implements Command {}

    /**
     * @param newJudgments judgments the panel made for this batch now (0 when a resumed run re-sends a judged batch,
     *     and for a batch people alone judge)
     * @param lastSequence the newest sequence number among the panel's judgments of this batch, -1 if it has none
     */
    public record Collected(int newJudgments, long lastSequence) {}

    /** The store's newest judgment sequence number (0 when it has none). */
    public record LastSequence(long sequence) {}

    /** Judged comparisons, in sequence order. */
    public record Judged(List<JudgedComparison> comparisons, long lastSequence) {}

    /** The running Collect's chain ended: exactly one of {@code collected} and {@code failure} is set. */
    private record CollectFinished(Collect request, Collected collected, Throwable failure) implements Internal {}

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
                .onMessage(ReadLastSequence.class, this::onReadLastSequence)
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

    /**
     * Stores the batch and, when the panel judges it, has every simulated annotator judge what the store hands it
     * and reads the batch's newest sequence; a batch for people alone is done once its tasks are durable.
     */
    private CompletableFuture<Collected> collect(Collect message) {
        String batchId = message.batchId();
        int size = message.comparisons().size();
        Labeling labeling = message.labeling();
        CompletableFuture<Void> tasks = loop.submitAsync(batchId, message.comparisons(), message.policyVersion(),
                labeling.annotationsNeeded(loop.annotationsPerTask()));
        if (!labeling.panel()) {
            return tasks.thenApply(durable -> new Collected(0, -1)); // people judge it through the labeling queue
        }
        return tasks
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
        } else if (message instanceof ReadLastSequence read) {
            read.replyTo().tell(StatusReply.error("collector busy: reading the last sequence refused, "
                    + STASH_CAPACITY + " requests already waiting"));
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

    private Behavior<Command> onReadLastSequence(ReadLastSequence message) {
        long last;
        try {
            last = loop.lastSequence();
        } catch (RuntimeException e) {
            getContext().getLog().warn("Reading the store's last judgment sequence failed", e);
            message.replyTo().tell(StatusReply.error("reading the last judgment sequence failed: " + describe(e)));
            return this;
        }
        message.replyTo().tell(StatusReply.success(new LastSequence(last)));
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
