package dev.rlhf.actors;

import dev.rlhf.actors.PpoLearnerActor.Learned;
import dev.rlhf.actors.PreferenceCollector.Collected;
import dev.rlhf.actors.PreferenceCollector.Judged;
import dev.rlhf.actors.RewardScorerActor.Scored;
import dev.rlhf.actors.RewardTrainerActor.Trained;
import dev.rlhf.actors.RolloutWorker.Rollout;
import dev.rlhf.actors.RolloutWorker.WeightsLoaded;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.ppo.PpoStats;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.ComparisonSource;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.IntStream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The ExperimentCoordinator role: runs the loop. Before PPO it samples the SFT policy for the evaluation and for
 * the first reward model's comparisons, has them judged and trains reward model v1. Each iteration then splits the
 * prompts over the rollout workers, sends every finished chunk to the scorer at once (scoring overlaps the other
 * chunks' generation), hands the scored batch to the learner, and publishes the new weights to every worker
 * before the next rollout, so no rollout mixes versions. A chunk whose worker fails or times out is retried on
 * the next worker (supervision restarts the failed one).
 *
 * <p>The worker set may change while the run goes on (cluster mode): a worker that joins ({@link WorkerJoined})
 * gets the current weights and takes chunks once it holds them; a worker whose actor stops (a remote worker's
 * proxy stops when its node leaves, becomes unreachable or fails a call) is dropped and the chunks it held are
 * sent to another worker, without counting as a failure of the chunk. Requests are seeded one by one, so which
 * worker generates a chunk does not change its completions. While no worker holds the current weights, chunks
 * wait for one, up to the configured time. With iterated RLHF, pairs of fresh completions go to the
 * preference collector; once enough new judgments are in, a new reward model trains in the background and the
 * scorer switches to it two iterations after the training began (waiting for it if need be), so runs with the
 * same seed switch at the same iteration.
 *
 * <p>Checkpoints are written at iteration boundaries (every {@code checkpoint-every} iterations, at the end, and
 * on request), once every batch sent for judgment has been judged, so a checkpoint's state is complete. A run
 * resumed from one skips the SFT evaluation and the first reward model, restarts a reward-model training that
 * was in flight, and goes on from the checkpoint's iteration. {@link Stop} ends a run at the next boundary with a
 * checkpoint to resume from.
 */
public final class ExperimentCoordinator extends AbstractBehavior<ExperimentCoordinator.Command> {
    /** How long a chunk may take before it is retried elsewhere (a worker that fails answers at once). */
    private static final Duration CHUNK_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(30);
    private static final int MAX_ATTEMPTS = 3;

    /** What the coordinator handles: its own start, and the adapted replies of the roles it drives. */
    public sealed interface Command permits Start, Stop, CheckpointNow, WorkerJoined, ChunkDone, ChunkFailed,
            ChunkScored, BatchLearned, WeightsPublished, PublishFailed, WorkerWaitOver, CheckpointDone,
            PairsCollected, JudgmentsRead, RewardModelReady, FinalKlMeasured, StepFailed {}

    /** Starts the run; {@code replyTo} hears about every iteration and the end. */
    public record Start(ActorRef<Event> replyTo) implements Command {}

    /** Ends the run at the next iteration boundary with a checkpoint (then {@link Stopped}). */
    public record Stop() implements Command {}

    /** Writes a checkpoint at the next iteration boundary and replies once it is on disk. */
    public record CheckpointNow(ActorRef<PpoLearnerActor.CheckpointSaved> replyTo) implements Command {}

    /** A rollout worker to use from now on, until its actor stops; it gets the current weights first. */
    public record WorkerJoined(ActorRef<RolloutWorker.Command> worker) implements Command {}

    record ChunkDone(int rolloutId, Rollout rollout) implements Command {}

    record ChunkFailed(int rolloutId, int chunk, int attempt, Throwable cause) implements Command {}

    record ChunkScored(Scored scored) implements Command {}

    record BatchLearned(Learned learned) implements Command {}

    record WeightsPublished(ActorRef<RolloutWorker.Command> worker, WeightsLoaded loaded) implements Command {}

    record PublishFailed(ActorRef<RolloutWorker.Command> worker, Throwable cause) implements Command {}

    record WorkerWaitOver(int waitNumber) implements Command {}

    record CheckpointDone(PpoLearnerActor.CheckpointSaved saved) implements Command {}

    record PairsCollected(Collected collected) implements Command {}

    record JudgmentsRead(Judged judged) implements Command {}

    record RewardModelReady(Trained trained) implements Command {}

    record FinalKlMeasured(PpoLearnerActor.KlMeasured measured) implements Command {}

    record StepFailed(String step, Throwable cause) implements Command {}

    /** What the coordinator reports to whoever started it. */
    public sealed interface Event permits Evaluated, RewardModelTrained, IterationDone, Finished, Stopped, Failed {}

    /** Gold evaluation of the policy at {@code weightVersion} (0 is the SFT policy). */
    public record Evaluated(long weightVersion, List<String> prompts, List<Completion> completions) implements Event {}

    /** A reward-model version is in use from iteration {@code fromIteration} on. */
    public record RewardModelTrained(RewardModelBuilder.Version version, int fromIteration) implements Event {}

    /** One iteration's statistics and scalar metrics. */
    public record IterationDone(int iteration, PpoStats stats, Map<String, Double> scalars) implements Event {}

    /**
     * The run ended after {@code iterations} iterations with the final weights; {@code evaluationKl} holds the KL to
     * the reference of each final evaluation completion.
     */
    public record Finished(int iterations, WeightsSnapshot finalWeights, double[] evaluationKl) implements Event {}

    /** The run was stopped after {@code iterations} iterations; {@code checkpoint} resumes it. */
    public record Stopped(int iterations, Path checkpoint) implements Event {}

    /**
     * Where a resumed run picks up: a checkpoint's state and the reward-model version it was scoring with (null
     * when the checkpoint precedes the first one).
     */
    public record Resume(RunCheckpoint.State state, RewardModelBuilder.Version rewardModel) {}

    /** The run could not go on. */
    public record Failed(String reason) implements Event {}

    private enum Purpose { EVALUATE_BEFORE, COMPARISONS, TRAIN, EVALUATE_AFTER }

    private final ExperimentSettings settings;
    private final ExperimentPlan plan;
    private final Duration workerWaitTimeout;
    private final ActorRef<RewardScorerActor.Command> scorer;
    private final ActorRef<PpoLearnerActor.Command> learner;
    private final ActorRef<PreferenceCollector.Command> collector;
    private final ActorRef<RewardTrainerActor.Command> trainer;
    private final WeightsBoard board;
    private final Resume resume;
    private ActorRef<Event> listener;

    // control at iteration boundaries
    private boolean stopRequested;
    private final List<ActorRef<PpoLearnerActor.CheckpointSaved>> checkpointRequests = new ArrayList<>();
    private int collectsPending;
    private boolean checkpointWaitsForJudgments;

    // the rollout workers: each with the weight version it last acknowledged (-1 before its first), in join order
    private final Map<ActorRef<RolloutWorker.Command>, Long> workerVersions = new LinkedHashMap<>();
    private boolean publishing;

    // the rollout in flight
    private int rolloutId;
    /** The worker and attempt number of each chunk sent and not yet done. */
    private final Map<Integer, Attempt> chunksInFlight = new HashMap<>();
    private int[] chunkFailures;
    /** Chunks that found no worker at the current weights, in the order they came. */
    private final Deque<Attempt> chunksWaiting = new ArrayDeque<>();
    /** Counts the waits for a worker, so a wait's timeout that fires after it ended is recognised. */
    private int workerWait;
    private Purpose purpose;
    private ExperimentPlan.Batch batch;
    private List<List<GenerationRequest>> chunkRequests;
    private Rollout[] rollouts;
    private float[][] chunkScores;
    private int chunksPending;
    private long rolloutStart;
    private double scoringSeconds;

    private final Optional<GoldScore> gold;

    // the iteration in flight
    private int iteration;
    private long iterationStart;
    private final Map<String, Double> phaseSeconds = new LinkedHashMap<>();
    private long publishStart;
    private Learned lastLearned;
    private List<Completion> lastCompletions;
    private float[] lastScores;

    // reward models
    private int rewardModelVersion;
    private long trainedThrough = -1;
    private RewardModelBuilder.Version currentVersion;
    /** The newest judgment handed to a reward-model training. */
    private long judgedForTraining;
    private boolean retraining;
    private int swapDueIteration = -1;
    private Trained pendingVersion;
    private boolean waitingForRewardModel;

    private record Attempt(int chunk, int attempt, ActorRef<RolloutWorker.Command> worker) {}

    private ExperimentCoordinator(ActorContext<Command> context, ExperimentSettings settings, ExperimentPlan plan,
            Roles roles, WeightsBoard board, Resume resume, Duration workerWaitTimeout, Optional<GoldScore> gold) {
        super(context);
        this.settings = settings;
        this.plan = plan;
        this.workerWaitTimeout = workerWaitTimeout;
        this.gold = gold;
        for (ActorRef<RolloutWorker.Command> worker : roles.workers()) {
            workerVersions.put(worker, board.latest().version()); // built from the board's latest snapshot
            context.watch(worker);
        }
        this.scorer = roles.scorer();
        this.learner = roles.learner();
        this.collector = roles.collector();
        this.trainer = roles.trainer();
        this.board = board;
        this.resume = resume;
    }

    /**
     * The actors the coordinator drives.
     *
     * @param workers the rollout workers at the start, holding the board's latest weights (more may join later)
     */
    public record Roles(List<ActorRef<RolloutWorker.Command>> workers, ActorRef<RewardScorerActor.Command> scorer,
            ActorRef<PpoLearnerActor.Command> learner, ActorRef<PreferenceCollector.Command> collector,
            ActorRef<RewardTrainerActor.Command> trainer) {}

    /**
     * A coordinator that continues a run from {@code resume} (from its start when null).
     *
     * @param workerWaitTimeout how long chunks may wait while no rollout worker holds the current weights before
     *     the run fails
     * @param gold the hidden gold score the simulated annotators judge by, when they do: each iteration then also
     *     reports its completions' mean gold score
     */
    public static Behavior<Command> resume(ExperimentSettings settings, ExperimentPlan plan, Roles roles,
            WeightsBoard board, Resume resume, Duration workerWaitTimeout, Optional<GoldScore> gold) {
        return Behaviors.setup(context -> new ExperimentCoordinator(context, settings, plan, roles, board, resume,
                workerWaitTimeout, gold));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Start.class, this::onStart)
                .onMessage(Stop.class, this::onStop)
                .onMessage(CheckpointNow.class, this::onCheckpointNow)
                .onMessage(WorkerJoined.class, this::onWorkerJoined)
                .onMessage(WorkerWaitOver.class, this::onWorkerWaitOver)
                .onMessage(ChunkDone.class, this::onChunkDone)
                .onMessage(ChunkFailed.class, this::onChunkFailed)
                .onMessage(ChunkScored.class, this::onChunkScored)
                .onMessage(BatchLearned.class, this::onBatchLearned)
                .onMessage(WeightsPublished.class, this::onWeightsPublished)
                .onMessage(PublishFailed.class, this::onPublishFailed)
                .onMessage(CheckpointDone.class, this::onCheckpointDone)
                .onMessage(PairsCollected.class, this::onPairsCollected)
                .onMessage(JudgmentsRead.class, this::onJudgmentsRead)
                .onMessage(RewardModelReady.class, this::onRewardModelReady)
                .onMessage(FinalKlMeasured.class, this::onFinalKlMeasured)
                .onMessage(StepFailed.class, this::onStepFailed)
                .onSignal(Terminated.class, this::onWorkerTerminated)
                .build();
    }

    private Behavior<Command> onStart(Start message) {
        listener = message.replyTo();
        if (resume == null) {
            startRollout(Purpose.EVALUATE_BEFORE, plan.evaluation());
            return this;
        }
        RunCheckpoint.State state = resume.state();
        iteration = state.iteration();
        trainedThrough = state.preferenceSequence();
        judgedForTraining = state.judgedForTraining();
        if (resume.rewardModel() != null) {
            rewardModelVersion = state.rewardModelVersion();
            currentVersion = resume.rewardModel();
            scorer.tell(new RewardScorerActor.UseVersion(rewardModelVersion, currentVersion.scorer(),
                    getContext().getSystem().ignoreRef()));
        }
        if (state.retrainingDue() >= 0) {
            // the training in flight at the checkpoint is redone on the same judgments
            retraining = true;
            swapDueIteration = state.retrainingDue();
            readJudgedAndTrain(judgedForTraining);
        }
        getContext().getLog().info("resuming at iteration {} with reward model v{}", iteration, rewardModelVersion);
        startIteration();
        return this;
    }

    private Behavior<Command> onStop(Stop message) {
        stopRequested = true;
        if (waitingForRewardModel) {
            waitingForRewardModel = false; // at a boundary already: stop here rather than after one more iteration
            saveCheckpoint();
        }
        return this;
    }

    private Behavior<Command> onCheckpointNow(CheckpointNow message) {
        checkpointRequests.add(message.replyTo());
        if (waitingForRewardModel) {
            waitingForRewardModel = false; // at a boundary already; startIteration waits again afterwards
            saveCheckpoint();
        }
        return this;
    }

    // --- the rollout workers -------------------------------------------------------------------------------------

    private Behavior<Command> onWorkerJoined(WorkerJoined joined) {
        ActorRef<RolloutWorker.Command> worker = joined.worker();
        getContext().watch(worker);
        workerVersions.put(worker, -1L);
        loadLatestWeights(worker);
        return this;
    }

    private void loadLatestWeights(ActorRef<RolloutWorker.Command> worker) {
        WeightsSnapshot snapshot = board.latest();
        getContext().ask(WeightsLoaded.class, worker, STEP_TIMEOUT,
                replyTo -> new RolloutWorker.LoadWeights(snapshot, replyTo),
                (loaded, failure) -> loaded != null
                        ? new WeightsPublished(worker, loaded) : new PublishFailed(worker, failure));
    }

    private Behavior<Command> onWorkerTerminated(Terminated terminated) {
        if (workerVersions.remove(terminated.getRef()) == null) {
            return this;
        }
        getContext().getLog().warn("rollout worker {} is gone; {} left", terminated.getRef().path().name(),
                workerVersions.size());
        List<Attempt> orphaned = chunksInFlight.values().stream()
                .filter(attempt -> attempt.worker().equals(terminated.getRef()))
                .toList();
        for (Attempt attempt : orphaned) {
            getContext().getLog().info("chunk {} goes to another worker", attempt.chunk());
            sendChunk(attempt.chunk(), attempt.attempt() + 1);
        }
        if (publishing) {
            finishPublicationIfDone();
        }
        return this;
    }

    /** The workers that hold the latest weights, in join order. */
    private List<ActorRef<RolloutWorker.Command>> readyWorkers() {
        long latest = board.latest().version();
        return workerVersions.entrySet().stream()
                .filter(entry -> entry.getValue() == latest)
                .map(Map.Entry::getKey)
                .toList();
    }

    private void waitForWorker(Attempt attempt) {
        if (chunksWaiting.isEmpty()) {
            workerWait++;
            getContext().getLog().info("no rollout worker holds weights v{} ({} known): waiting up to {} for one",
                    board.latest().version(), workerVersions.size(), workerWaitTimeout);
            getContext().scheduleOnce(workerWaitTimeout, getContext().getSelf(), new WorkerWaitOver(workerWait));
        }
        chunksWaiting.add(attempt);
    }

    private void sendWaitingChunks() {
        if (chunksWaiting.isEmpty() || readyWorkers().isEmpty()) {
            return;
        }
        getContext().getLog().info("a rollout worker holds weights v{}: sending the {} waiting chunks",
                board.latest().version(), chunksWaiting.size());
        List<Attempt> waiting = new ArrayList<>(chunksWaiting);
        chunksWaiting.clear();
        waiting.forEach(attempt -> sendChunk(attempt.chunk(), attempt.attempt()));
    }

    private Behavior<Command> onWorkerWaitOver(WorkerWaitOver over) {
        if (over.waitNumber() != workerWait || chunksWaiting.isEmpty()) {
            return this; // that wait ended in time
        }
        return fail("no rollout worker held weights v" + board.latest().version() + " within " + workerWaitTimeout);
    }

    // --- rollouts, chunked over the workers -------------------------------------------------------------------

    private void startRollout(Purpose next, ExperimentPlan.Batch nextBatch) {
        purpose = next;
        batch = nextBatch;
        rolloutId++;
        int n = Math.max(1, readyWorkers().size());
        chunkRequests = new ArrayList<>();
        int size = (batch.requests().size() + n - 1) / n;
        for (int start = 0; start < batch.requests().size(); start += size) {
            chunkRequests.add(batch.requests().subList(start, Math.min(batch.requests().size(), start + size)));
        }
        rollouts = new Rollout[chunkRequests.size()];
        chunkScores = new float[chunkRequests.size()][];
        chunkFailures = new int[chunkRequests.size()];
        chunksPending = chunkRequests.size();
        scoringSeconds = 0;
        rolloutStart = System.nanoTime();
        for (int chunk = 0; chunk < chunkRequests.size(); chunk++) {
            sendChunk(chunk, 1);
        }
    }

    /** Sends the chunk to a worker at the latest weights (attempt n goes n - 1 workers further), or queues it. */
    private void sendChunk(int chunk, int attempt) {
        chunksInFlight.remove(chunk);
        List<ActorRef<RolloutWorker.Command>> ready = readyWorkers();
        if (ready.isEmpty()) {
            waitForWorker(new Attempt(chunk, attempt, null));
            return;
        }
        ActorRef<RolloutWorker.Command> worker = ready.get((chunk + attempt - 1) % ready.size());
        chunksInFlight.put(chunk, new Attempt(chunk, attempt, worker));
        List<GenerationRequest> requests = chunkRequests.get(chunk);
        int id = rolloutId;
        getContext().askWithStatus(Rollout.class, worker, CHUNK_TIMEOUT,
                replyTo -> new RolloutWorker.Generate(chunk, requests, replyTo),
                (rollout, failure) -> rollout != null
                        ? new ChunkDone(id, rollout) : new ChunkFailed(id, chunk, attempt, failure));
    }

    private Behavior<Command> onChunkFailed(ChunkFailed failed) {
        Attempt current = chunksInFlight.get(failed.chunk());
        if (failed.rolloutId() != rolloutId || current == null || current.attempt() != failed.attempt()) {
            return this; // an attempt that was already sent elsewhere (its worker is gone) or another rollout's
        }
        if (++chunkFailures[failed.chunk()] >= MAX_ATTEMPTS) {
            return fail("chunk " + failed.chunk() + " failed " + MAX_ATTEMPTS + " times: " + failed.cause());
        }
        getContext().getLog().warn("chunk {} failed ({}); retrying on another worker", failed.chunk(),
                failed.cause().toString());
        sendChunk(failed.chunk(), failed.attempt() + 1);
        return this;
    }

    private Behavior<Command> onChunkDone(ChunkDone done) {
        Rollout rollout = done.rollout();
        if (done.rolloutId() != rolloutId || rollouts[rollout.chunk()] != null) {
            return this; // a late reply to an attempt that was already retried
        }
        chunksInFlight.remove(rollout.chunk());
        long expected = board.latest().version();
        if (rollout.weightVersion() != expected) {
            getContext().getLog().warn("chunk {} was generated with weights v{} while v{} is published",
                    rollout.chunk(), rollout.weightVersion(), expected);
        }
        rollouts[rollout.chunk()] = rollout;
        if (purpose == Purpose.TRAIN) {
            // score this chunk now, while the other chunks are still generating
            int chunk = rollout.chunk();
            List<PromptResponse> pairs = pairsOf(chunk, rollout.completions());
            getContext().ask(Scored.class, scorer, STEP_TIMEOUT,
                    replyTo -> new RewardScorerActor.Score(chunk, pairs, replyTo),
                    (scored, failure) -> scored != null ? new ChunkScored(scored) : new StepFailed("scoring", failure));
            return this;
        }
        if (--chunksPending == 0) {
            return rolloutComplete();
        }
        return this;
    }

    private Behavior<Command> onChunkScored(ChunkScored message) {
        Scored scored = message.scored();
        chunkScores[scored.chunk()] = scored.scores();
        scoringSeconds += scored.seconds();
        if (--chunksPending == 0) {
            return rolloutComplete();
        }
        return this;
    }

    private Behavior<Command> rolloutComplete() {
        List<Completion> completions = new ArrayList<>();
        for (Rollout rollout : rollouts) {
            completions.addAll(rollout.completions());
        }
        double seconds = (System.nanoTime() - rolloutStart) / 1e9;
        switch (purpose) {
            case EVALUATE_BEFORE -> {
                listener.tell(new Evaluated(0, batch.prompts(), completions));
                startRollout(Purpose.COMPARISONS, plan.comparisons());
            }
            case COMPARISONS -> {
                List<Comparison> comparisons = new ArrayList<>();
                for (int i = 0; i + 1 < completions.size(); i += 2) {
                    comparisons.add(new Comparison(batch.prompts().get(i),
                            ComparisonSource.responseText(completions.get(i)),
                            ComparisonSource.responseText(completions.get(i + 1))));
                }
                comparisons.addAll(plan.datasetComparisons());
                retraining = true;
                swapDueIteration = 0;
                collect("initial", comparisons, 0);
                startIteration(); // waits for reward model v1
            }
            case TRAIN -> learn(completions, seconds);
            case EVALUATE_AFTER -> {
                listener.tell(new Evaluated(board.latest().version(), batch.prompts(), completions));
                List<int[]> prompts = batch.requests().stream().map(GenerationRequest::promptIds).toList();
                getContext().ask(PpoLearnerActor.KlMeasured.class, learner, STEP_TIMEOUT,
                        replyTo -> new PpoLearnerActor.MeasureKl(prompts, completions, replyTo),
                        (measured, failure) -> measured != null
                                ? new FinalKlMeasured(measured) : new StepFailed("measuring the final KL", failure));
            }
        }
        return this;
    }

    private Behavior<Command> onFinalKlMeasured(FinalKlMeasured message) {
        listener.tell(new Finished(iteration, board.latest(), message.measured().perCompletion()));
        return Behaviors.stopped();
    }

    // --- an iteration --------------------------------------------------------------------------------------------

    private void startIteration() {
        if (iteration == swapDueIteration) {
            if (pendingVersion == null) {
                if (stopRequested || !checkpointRequests.isEmpty()) {
                    saveCheckpoint(); // comes back here once it is written
                    return;
                }
                waitingForRewardModel = true; // resumes in onRewardModelReady
                return;
            }
            useRewardModel(pendingVersion);
        }
        if (iteration == settings.iterations()) {
            startRollout(Purpose.EVALUATE_AFTER, plan.evaluation());
            return;
        }
        iterationStart = System.nanoTime();
        phaseSeconds.clear();
        startRollout(Purpose.TRAIN, plan.iteration(iteration, settings.pairs()));
    }

    private void learn(List<Completion> completions, double rolloutSeconds) {
        phaseSeconds.put("time/rollout_s", rolloutSeconds);
        phaseSeconds.put("time/scoring_s", scoringSeconds);
        float[] scores = new float[completions.size()];
        int offset = 0;
        for (float[] chunk : chunkScores) {
            System.arraycopy(chunk, 0, scores, offset, chunk.length);
            offset += chunk.length;
        }
        List<int[]> prompts = batch.requests().stream().map(GenerationRequest::promptIds).toList();
        int at = iteration;
        getContext().ask(Learned.class, learner, STEP_TIMEOUT,
                replyTo -> new PpoLearnerActor.Learn(at, prompts, completions, scores, replyTo),
                (learned, failure) -> learned != null ? new BatchLearned(learned) : new StepFailed("ppo", failure));
        if (settings.iterated()) {
            sendPairs(completions);
        }
        lastCompletions = completions;
        lastScores = scores;
    }

    private void sendPairs(List<Completion> completions) {
        int pairs = settings.pairs();
        int distinct = completions.size() - pairs;
        List<Comparison> comparisons = new ArrayList<>(pairs);
        for (int i = 0; i < pairs; i++) {
            comparisons.add(new Comparison(batch.prompts().get(i),
                    ComparisonSource.responseText(completions.get(i)),
                    ComparisonSource.responseText(completions.get(distinct + i))));
        }
        collect("iter-" + iteration, comparisons, board.latest().version());
    }

    private void collect(String batchId, List<Comparison> comparisons, long policyVersion) {
        collectsPending++;
        getContext().ask(Collected.class, collector, STEP_TIMEOUT,
                replyTo -> new PreferenceCollector.Collect(batchId, comparisons, "v" + policyVersion, replyTo),
                (collected, failure) -> collected != null
                        ? new PairsCollected(collected) : new StepFailed("preference collection", failure));
    }

    private Behavior<Command> onBatchLearned(BatchLearned message) {
        lastLearned = message.learned();
        phaseSeconds.put("time/learn_s", lastLearned.seconds());
        board.publish(lastLearned.update().snapshot());
        publishing = true;
        publishStart = System.nanoTime();
        workerVersions.keySet().forEach(this::loadLatestWeights);
        finishPublicationIfDone(); // at once when no worker is left
        return this;
    }

    private Behavior<Command> onWeightsPublished(WeightsPublished message) {
        if (!workerVersions.containsKey(message.worker())) {
            return this; // dropped meanwhile
        }
        workerVersions.put(message.worker(), message.loaded().weightVersion());
        sendWaitingChunks();
        if (publishing) {
            finishPublicationIfDone();
        }
        return this;
    }

    private Behavior<Command> onPublishFailed(PublishFailed failed) {
        if (!workerVersions.containsKey(failed.worker())) {
            return this; // a worker already dropped: its proxy stopped rather than answer
        }
        return fail("weight publication failed: " + failed.cause());
    }

    /** Ends the publication once every worker holds the new weights: the iteration is over. */
    private void finishPublicationIfDone() {
        long latest = board.latest().version();
        if (workerVersions.values().stream().anyMatch(version -> version != latest)) {
            return;
        }
        publishing = false;
        phaseSeconds.put("time/publish_s", (System.nanoTime() - publishStart) / 1e9);
        phaseSeconds.put("time/iteration_s", (System.nanoTime() - iterationStart) / 1e9);
        listener.tell(new IterationDone(iteration, lastLearned.update().stats(), scalars()));
        iteration++;
        boolean scheduled = iteration % settings.checkpointEvery() == 0 || iteration == settings.iterations();
        if (scheduled || stopRequested || !checkpointRequests.isEmpty()) {
            saveCheckpoint();
        } else {
            startIteration();
        }
    }

    /** Checkpoints this boundary once no batch awaits judgment (so the checkpoint's retraining state is final). */
    private void saveCheckpoint() {
        if (collectsPending > 0) {
            checkpointWaitsForJudgments = true; // resumes in onPairsCollected
            return;
        }
        RunCheckpoint.State state = new RunCheckpoint.State(iteration, trainedThrough, rewardModelVersion,
                judgedForTraining, retraining ? swapDueIteration : -1);
        getContext().ask(PpoLearnerActor.CheckpointSaved.class, learner, STEP_TIMEOUT,
                replyTo -> new PpoLearnerActor.SaveCheckpoint(state, replyTo),
                (saved, failure) -> saved != null ? new CheckpointDone(saved) : new StepFailed("checkpoint", failure));
    }

    private Behavior<Command> onCheckpointDone(CheckpointDone done) {
        checkpointRequests.forEach(requester -> requester.tell(done.saved()));
        checkpointRequests.clear();
        if (done.saved().failure() != null) {
            return fail("checkpoint of iteration " + done.saved().iteration() + " failed: " + done.saved().failure());
        }
        if (stopRequested) {
            getContext().getLog().info("stopped after iteration {}; resume from {}", iteration, done.saved().path());
            listener.tell(new Stopped(iteration, done.saved().path()));
            return Behaviors.stopped();
        }
        startIteration();
        return this;
    }

    private Map<String, Double> scalars() {
        PpoStats stats = lastLearned.update().stats();
        Map<String, Double> scalars = new LinkedHashMap<>();
        double[] scores = new double[lastScores.length];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = lastScores[i];
        }
        scalars.put("reward/rm_mean", Arrays.stream(scores).average().orElse(Double.NaN));
        scalars.put("reward/rm_std", std(scores));
        scalars.put("reward/rm_version", (double) rewardModelVersion);
        gold.ifPresent(g -> scalars.put("reward/gold_mean", IntStream.range(0, lastCompletions.size())
                .mapToDouble(i -> g.score(batch.prompts().get(i), lastCompletions.get(i).text())).average()
                .orElse(Double.NaN)));
        scalars.put("kl/to_reference", stats.klToReference());
        scalars.put("kl/coefficient", stats.klCoefficient());
        scalars.put("ppo/policy_loss", stats.policyLoss());
        scalars.put("ppo/value_loss", stats.valueLoss());
        scalars.put("ppo/entropy", stats.entropy());
        scalars.put("ppo/clip_fraction", stats.clipFraction());
        scalars.put("ppo/approx_kl", stats.approxKl());
        scalars.put("ppo/grad_norm", stats.gradNorm());
        scalars.put("ppo/epochs", (double) stats.epochsRun());
        int tokens = lastCompletions.stream().mapToInt(c -> c.tokenIds().length).sum();
        scalars.put("rollout/response_length", tokens / (double) lastCompletions.size());
        scalars.put("perf/tokens_per_s", tokens / phaseSeconds.get("time/rollout_s"));
        scalars.put("policy/weight_version", (double) lastLearned.update().snapshot().version());
        scalars.putAll(phaseSeconds);
        return scalars;
    }

    // --- reward models ---------------------------------------------------------------------------------------------

    private Behavior<Command> onPairsCollected(PairsCollected message) {
        Collected collected = message.collected();
        collectsPending--;
        boolean initial = collected.batchId().equals("initial");
        // counted from the iteration that sent the pairs, not the one running when the reply lands
        int due = initial ? 0 : Integer.parseInt(collected.batchId().substring("iter-".length())) + 2;
        long newest = Math.max(collected.lastSequence(), judgedForTraining);
        boolean enough = newest - judgedForTraining >= settings.retrainAfter();
        // a version that could not be used before the run ends is not worth training
        if (initial || enough && !retraining && due < settings.iterations()) {
            retraining = true;
            swapDueIteration = due;
            judgedForTraining = newest;
            readJudgedAndTrain(newest);
        }
        if (checkpointWaitsForJudgments && collectsPending == 0) {
            checkpointWaitsForJudgments = false;
            saveCheckpoint();
        }
        return this;
    }

    /** Reads the judgments through {@code throughSequence} (the same set on every run) and trains on them. */
    private void readJudgedAndTrain(long throughSequence) {
        getContext().ask(Judged.class, collector, STEP_TIMEOUT,
                replyTo -> new PreferenceCollector.ReadJudged(0, throughSequence, replyTo),
                (judged, failure) -> judged != null
                        ? new JudgmentsRead(judged) : new StepFailed("reading judgments", failure));
    }

    private Behavior<Command> onJudgmentsRead(JudgmentsRead message) {
        int version = rewardModelVersion + 1;
        RewardModelBuilder.Version previous = currentVersion;
        getContext().ask(Trained.class, trainer, STEP_TIMEOUT,
                replyTo -> new RewardTrainerActor.Train(version, previous, message.judged().comparisons(), replyTo),
                (trained, failure) -> trained != null
                        ? new RewardModelReady(trained) : new StepFailed("reward-model training", failure));
        return this;
    }

    private Behavior<Command> onRewardModelReady(RewardModelReady message) {
        Trained trained = message.trained();
        if (trained.result() == null) {
            return fail("reward model v" + trained.version() + " failed to train: " + trained.failure());
        }
        pendingVersion = trained;
        if (waitingForRewardModel) {
            waitingForRewardModel = false;
            startIteration();
        }
        return this;
    }

    private void useRewardModel(Trained trained) {
        rewardModelVersion = trained.version();
        currentVersion = trained.result();
        trainedThrough = trained.result().info().trainedThroughSequence();
        RewardModelBuilder.Version version = trained.result();
        scorer.tell(new RewardScorerActor.UseVersion(version.info().version(), version.scorer(),
                getContext().getSystem().ignoreRef()));
        listener.tell(new RewardModelTrained(version, iteration));
        pendingVersion = null;
        retraining = false;
        swapDueIteration = -1;
    }

    // --- helpers ---------------------------------------------------------------------------------------------------

    private Behavior<Command> onStepFailed(StepFailed failed) {
        return fail(failed.step() + " failed: " + failed.cause());
    }

    private Behavior<Command> fail(String reason) {
        getContext().getLog().error("experiment stopped: {}", reason);
        listener.tell(new Failed(reason));
        return Behaviors.stopped();
    }

    private List<PromptResponse> pairsOf(int chunk, List<Completion> completions) {
        int first = 0;
        for (int c = 0; c < chunk; c++) {
            first += chunkRequests.get(c).size();
        }
        List<PromptResponse> pairs = new ArrayList<>(completions.size());
        for (int i = 0; i < completions.size(); i++) {
            pairs.add(new PromptResponse(batch.prompts().get(first + i),
                    ComparisonSource.responseText(completions.get(i))));
        }
        return pairs;
    }

    private static double std(double[] values) {
        double mean = Arrays.stream(values).average().orElse(0);
        double sum = 0;
        for (double v : values) {
            sum += (v - mean) * (v - mean);
        }
        return Math.sqrt(sum / Math.max(1, values.length - 1));
    }
}
