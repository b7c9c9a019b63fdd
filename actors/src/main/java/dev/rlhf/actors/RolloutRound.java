package dev.rlhf.actors;

import dev.rlhf.actors.RewardScorerActor.Scored;
import dev.rlhf.actors.RolloutWorker.Rollout;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.rewardmodel.ComparisonSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One rollout of a batch over the rollout workers, as a child of the coordinator (one per rollout, so an answer
 * meant for an earlier rollout never reaches it). The batch is split into one chunk per worker that holds the
 * weights of this rollout; a chunk whose worker fails or times out is retried on the next worker, and one whose
 * worker stops is sent to another without counting as a failure. While no worker holds the weights, chunks wait
 * for one, up to the worker-wait timeout. When a scorer is given, each finished chunk is scored at once, so scoring
 * overlaps the other chunks' generation. The round answers once, with every completion in request order (and
 * their scores), or with why it failed, and stops.
 *
 * <p>Requests are seeded one by one, so which worker generates a chunk does not change its completions.
 */
final class RolloutRound extends AbstractBehavior<RolloutRound.Command> {
    private static final Object WORKER_WAIT = "worker-wait";

    /** What the round handles: {@link WorkerReady} from the coordinator, and its own adapted answers. */
    sealed interface Command permits WorkerReady, ChunkDone, ChunkFailed, ChunkScored, ScoringFailed, WorkerWaitOver {}

    /** A worker that holds this rollout's weights now (it joined, or finished loading them). */
    record WorkerReady(ActorRef<RolloutWorker.Command> worker) implements Command {}

    private record ChunkDone(Rollout rollout) implements Command {}

    private record ChunkFailed(int chunk, int attempt, Throwable cause) implements Command {}

    private record ChunkScored(Scored scored) implements Command {}

    private record ScoringFailed(int chunk, Throwable cause) implements Command {}

    private record WorkerWaitOver() implements Command {}

    /** How the round ended. */
    sealed interface Outcome permits Done, Failed {}

    /**
     * Every completion, in request order, with its score when the round scored them ({@code scores} is then one per
     * completion, otherwise empty); the receiver owns the arrays.
     */
    record Done(List<Completion> completions, float[] scores, double rolloutSeconds, double scoringSeconds)
            implements Outcome {}

    /** The round could not finish; {@code reason} starts with the role that failed it. */
    record Failed(String reason) implements Outcome {}

    /**
     * What to roll out.
     *
     * @param weightVersion the version every chunk should be generated with (a mismatch is logged)
     * @param workers the workers that hold it, in join order
     * @param scorer scores each chunk when present
     */
    record Request(ExperimentPlan.Batch batch, long weightVersion, List<ActorRef<RolloutWorker.Command>> workers,
            Optional<ActorRef<RewardScorerActor.Command>> scorer) {}

    private final Request request;
    private final ExperimentTimeouts timeouts;
    private final ActorRef<Outcome> replyTo;
    private final TimerScheduler<Command> timers;
    private final List<ActorRef<RolloutWorker.Command>> ready;
    private final List<List<GenerationRequest>> chunks = new ArrayList<>();
    private final Rollout[] rollouts;
    private final float[][] chunkScores;
    private final int[] failures;
    /** The worker and attempt of each chunk sent and not yet done. */
    private final Map<Integer, Attempt> inFlight = new HashMap<>();
    /** Chunks that found no worker, in the order they came. */
    private final Deque<Attempt> waiting = new ArrayDeque<>();
    private final long start = System.nanoTime();
    private int pending;
    private double scoringSeconds;

    private record Attempt(int chunk, int attempt, ActorRef<RolloutWorker.Command> worker) {}

    private RolloutRound(ActorContext<Command> context, TimerScheduler<Command> timers, Request request,
            ExperimentTimeouts timeouts, ActorRef<Outcome> replyTo) {
        super(context);
        this.timers = timers;
        this.request = request;
        this.timeouts = timeouts;
        this.replyTo = replyTo;
        this.ready = new ArrayList<>(request.workers());
        ready.forEach(context::watch);
        List<GenerationRequest> requests = request.batch().requests();
        int size = (requests.size() + Math.max(1, ready.size()) - 1) / Math.max(1, ready.size());
        for (int from = 0; from < requests.size(); from += size) {
            chunks.add(requests.subList(from, Math.min(requests.size(), from + size)));
        }
        rollouts = new Rollout[chunks.size()];
        chunkScores = new float[chunks.size()][];
        failures = new int[chunks.size()];
        pending = chunks.size();
        for (int chunk = 0; chunk < chunks.size(); chunk++) {
            send(chunk, 1);
        }
    }

    static Behavior<Command> create(Request request, ExperimentTimeouts timeouts, ActorRef<Outcome> replyTo) {
        return Behaviors.setup(context -> Behaviors.withTimers(
                timers -> new RolloutRound(context, timers, request, timeouts, replyTo)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(WorkerReady.class, this::onWorkerReady)
                .onMessage(ChunkDone.class, this::onChunkDone)
                .onMessage(ChunkFailed.class, this::onChunkFailed)
                .onMessage(ChunkScored.class, this::onChunkScored)
                .onMessage(ScoringFailed.class, failed -> finish(new Failed(ExperimentCoordinator.SCORER
                        + " failed: " + failed.cause().getMessage())))
                .onMessage(WorkerWaitOver.class, this::onWorkerWaitOver)
                .onSignal(Terminated.class, this::onWorkerStopped)
                .build();
    }

    /** Sends the chunk to a ready worker (attempt n goes n - 1 workers further), or has it wait for one. */
    private void send(int chunk, int attempt) {
        inFlight.remove(chunk);
        if (ready.isEmpty()) {
            if (waiting.isEmpty()) {
                getContext().getLog().info("no rollout worker holds weights v{}: waiting up to {} for one",
                        request.weightVersion(), timeouts.workerWait());
                timers.startSingleTimer(WORKER_WAIT, new WorkerWaitOver(), timeouts.workerWait());
            }
            waiting.add(new Attempt(chunk, attempt, null));
            return;
        }
        ActorRef<RolloutWorker.Command> worker = ready.get((chunk + attempt - 1) % ready.size());
        inFlight.put(chunk, new Attempt(chunk, attempt, worker));
        List<GenerationRequest> requests = chunks.get(chunk);
        getContext().askWithStatus(Rollout.class, worker, timeouts.chunk(),
                replyTo -> new RolloutWorker.Generate(chunk, requests, replyTo),
                (rollout, failure) -> rollout != null ? new ChunkDone(rollout) : new ChunkFailed(chunk, attempt, failure));
    }

    private Behavior<Command> onWorkerReady(WorkerReady message) {
        if (ready.contains(message.worker())) {
            return this;
        }
        getContext().watch(message.worker());
        ready.add(message.worker());
        if (!waiting.isEmpty()) {
            getContext().getLog().info("a rollout worker holds weights v{}: sending the {} waiting chunks",
                    request.weightVersion(), waiting.size());
            timers.cancel(WORKER_WAIT);
            List<Attempt> sending = new ArrayList<>(waiting);
            waiting.clear();
            sending.forEach(attempt -> send(attempt.chunk(), attempt.attempt()));
        }
        return this;
    }

    private Behavior<Command> onWorkerStopped(Terminated stopped) {
        if (!ready.remove(stopped.getRef())) {
            return this;
        }
        List<Attempt> orphaned = inFlight.values().stream()
                .filter(attempt -> attempt.worker().equals(stopped.getRef()))
                .toList();
        for (Attempt attempt : orphaned) {
            getContext().getLog().info("rollout worker {} is gone: chunk {} goes to another worker",
                    stopped.getRef().path().name(), attempt.chunk());
            send(attempt.chunk(), attempt.attempt() + 1);
        }
        return this;
    }

    private Behavior<Command> onChunkFailed(ChunkFailed failed) {
        Attempt current = inFlight.get(failed.chunk());
        if (current == null || current.attempt() != failed.attempt()) {
            return this; // an attempt already sent elsewhere because its worker stopped
        }
        if (++failures[failed.chunk()] >= timeouts.chunkAttempts()) {
            return finish(new Failed(ExperimentCoordinator.ROLLOUT_WORKER + " failed: chunk " + failed.chunk()
                    + " failed " + timeouts.chunkAttempts() + " times, last: " + failed.cause().getMessage()));
        }
        getContext().getLog().warn("chunk {} failed ({}); retrying on another worker", failed.chunk(),
                failed.cause().getMessage());
        send(failed.chunk(), failed.attempt() + 1);
        return this;
    }

    private Behavior<Command> onChunkDone(ChunkDone done) {
        Rollout rollout = done.rollout();
        int chunk = rollout.chunk();
        if (rollouts[chunk] != null) {
            return this; // a second answer for a chunk that was retried
        }
        inFlight.remove(chunk);
        if (rollout.weightVersion() != request.weightVersion()) {
            getContext().getLog().warn("chunk {} was generated with weights v{} while v{} is published", chunk,
                    rollout.weightVersion(), request.weightVersion());
        }
        rollouts[chunk] = rollout;
        if (request.scorer().isPresent()) {
            List<PromptResponse> pairs = pairsOf(chunk, rollout.completions());
            getContext().askWithStatus(Scored.class, request.scorer().get(), timeouts.scoring(),
                    replyTo -> new RewardScorerActor.Score(chunk, pairs, replyTo),
                    (scored, failure) -> scored != null ? new ChunkScored(scored) : new ScoringFailed(chunk, failure));
            return this;
        }
        return --pending == 0 ? finish(done()) : this;
    }

    private Behavior<Command> onChunkScored(ChunkScored message) {
        Scored scored = message.scored();
        chunkScores[scored.chunk()] = scored.scores();
        scoringSeconds += scored.seconds();
        return --pending == 0 ? finish(done()) : this;
    }

    private Behavior<Command> onWorkerWaitOver(WorkerWaitOver over) {
        return finish(new Failed("no " + ExperimentCoordinator.ROLLOUT_WORKER + " held weights v"
                + request.weightVersion() + " within " + timeouts.workerWait()));
    }

    private Done done() {
        List<Completion> completions = new ArrayList<>();
        for (Rollout rollout : rollouts) {
            completions.addAll(rollout.completions());
        }
        float[] scores = new float[request.scorer().isPresent() ? completions.size() : 0];
        if (scores.length > 0) {
            int offset = 0;
            for (float[] chunk : chunkScores) {
                System.arraycopy(chunk, 0, scores, offset, chunk.length);
                offset += chunk.length;
            }
        }
        return new Done(completions, scores, (System.nanoTime() - start) / 1e9, scoringSeconds);
    }

    private Behavior<Command> finish(Outcome outcome) {
        replyTo.tell(outcome);
        return Behaviors.stopped();
    }

    private List<PromptResponse> pairsOf(int chunk, List<Completion> completions) {
        int first = 0;
        for (int c = 0; c < chunk; c++) {
            first += chunks.get(c).size();
        }
        List<PromptResponse> pairs = new ArrayList<>(completions.size());
        for (int i = 0; i < completions.size(); i++) {
            pairs.add(new PromptResponse(request.batch().prompts().get(first + i),
                    ComparisonSource.responseText(completions.get(i))));
        }
        return pairs;
    }
}
