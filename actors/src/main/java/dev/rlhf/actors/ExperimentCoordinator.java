package dev.rlhf.actors;

import dev.rlhf.actors.ExperimentPlan.Batch;
import dev.rlhf.actors.ExperimentPlan.ComparisonBatch;
import dev.rlhf.actors.LearnerActor.CheckpointSaved;
import dev.rlhf.actors.LearnerActor.KlMeasured;
import dev.rlhf.actors.LearnerActor.Learned;
import dev.rlhf.actors.PreferenceCollector.Collected;
import dev.rlhf.actors.PreferenceCollector.Judged;
import dev.rlhf.actors.PreferenceCollector.LastSequence;
import dev.rlhf.actors.PreferenceCollector.Labeling;
import dev.rlhf.actors.RewardModelSchedule.Training;
import dev.rlhf.actors.RewardTrainerActor.Trained;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.rewardmodel.RewardModelBuilder;
import dev.rlhf.rewardmodel.RewardModelInfo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.pattern.StatusReply;

/**
 * The ExperimentCoordinator role: runs the loop. Before PPO it samples the SFT policy for the evaluation and for
 * the first reward model's comparisons, has them judged and trains reward model v1 (a run given a reward model
 * scores with that one as v1 instead). An offline algorithm (DPO, IPO) gets v1's judgments too, before its first
 * update (and again, read from the collector, when a run resumes): its updates are epochs of those pairs, and its
 * iterations send no pairs for judgment. Each iteration then
 * <ol>
 *   <li>rolls out the iteration's prompts ({@link RolloutRound}: chunks over the workers, each scored as it
 *       finishes),
 *   <li>hands the scored batch to the learner and, in iterated RLHF, the iteration's pairs to the preference
 *       collector ({@link ExperimentPlan#iterationPairs}),
 *   <li>publishes the learner's new weights to every worker ({@link WorkerRegistry}) and, once all hold them,
 *       reports the iteration ({@link IterationScalars}) and checkpoints when due.
 * </ol>
 * Judged batches may start a reward-model training in the background; {@link RewardModelSchedule} says when, and
 * at which boundary the scorer switches to the new version.
 *
 * <p>When people judge ({@link AnnotatorsMode#HUMAN}, {@link AnnotatorsMode#MIXED}), the iteration pairs also stay
 * in the labeling queue for them (in human mode the panel judges only the initial comparisons, for reward model
 * v1), and before each iteration's rollout the coordinator reads the store's newest judgment sequence number: it
 * may start a training, and the iteration reports it ({@code preferences/judgments_total}, {@code
 * preferences/judgments_pending}). With too few new judgments the run goes on with the reward model in use and
 * says so in its log when the count changes. A batch for people alone counts as sent once its tasks are durable,
 * so neither the loop nor a checkpoint waits for people.
 *
 * <p>The coordinator spawns the roles as its children and watches them. Local rollout workers restart when they
 * fail (a chunk they fail is retried elsewhere and a restarted worker comes back at the current weights); every
 * other role stops, because nothing would redo the request it failed, and a role that stops, an error answer or a
 * role that does not answer within its timeout ({@link ExperimentTimeouts}) ends the run at once as {@link Failed}
 * naming the role and the cause. Rollout workers may also join while the run goes on ({@link WorkerJoined}, cluster
 * mode); one whose actor stops is dropped.
 *
 * <p>Checkpoints are written at iteration boundaries (every {@code checkpoint-every} iterations, at the end, and
 * on request), once every batch sent for judgment has been judged, so a checkpoint's state is complete. A run
 * resumed from one skips the SFT evaluation and the first reward model, redoes a reward-model training that was in
 * flight, and goes on from the checkpoint's iteration. {@link Stop} ends a run at the next boundary with a
 * checkpoint to resume from. Once a wall-clock budget ({@code rlhf.experiment.budget-seconds}) is spent, the next
 * boundary is the last, as if the configured iterations were done: a checkpoint, the tuned evaluation, the end.
 *
 * <p>Reward-model versions belong to the coordinator: each is closed once the scorer uses its successor, and the
 * ones still held when the run ends are closed then.
 */
public final class ExperimentCoordinator extends AbstractBehavior<ExperimentCoordinator.Command> {
    static final String ROLLOUT_WORKER = "rollout worker";
    static final String SCORER = "reward scorer";
    static final String LEARNER = "learner";
    static final String COLLECTOR = "preference collector";
    static final String TRAINER = "reward-model trainer";

    /** How long a failed rollout round waits for a crashed role's own signal; see {@link #failAfterRoleSignals}. */
    private static final Duration ROLE_SIGNAL_GRACE = Duration.ofSeconds(1);

    /** What the coordinator handles: its controls, and the adapted answers of the roles it drives. */
    public sealed interface Command permits Start, Stop, CheckpointNow, WorkerJoined, RolledOut, WeightsLoaded,
            LoadFailed, BatchLearned, BatchJudged, JudgmentsCounted, JudgmentsRead, PreferencesRead, VersionTrained,
            ScorerSwitched, CheckpointWritten, CheckpointFailed, FinalKlMeasured, StepFailed, RoundFailed {}

    /** Starts the run. */
    public record Start() implements Command {}

    /** Ends the run at the next iteration boundary with a checkpoint (then {@link Stopped}). */
    public record Stop() implements Command {}

    /** Writes a checkpoint at the next iteration boundary and replies once it is on disk. */
    public record CheckpointNow(ActorRef<StatusReply<CheckpointSaved>> replyTo) implements Command {}

    /** A rollout worker to use from now on, until its actor stops; it gets the current weights first. */
    public record WorkerJoined(ActorRef<RolloutWorker.Command> worker) implements Command {}

    private record RolledOut(RolloutRound.Outcome outcome) implements Command {}

    private record WeightsLoaded(ActorRef<RolloutWorker.Command> worker, long version) implements Command {}

    private record LoadFailed(ActorRef<RolloutWorker.Command> worker, Throwable cause) implements Command {}

    private record BatchLearned(Learned learned) implements Command {}

    private record BatchJudged(int iteration, Labeling labeling, Collected collected) implements Command {}

    private record JudgmentsCounted(LastSequence last) implements Command {}

    private record JudgmentsRead(Training training, Judged judged) implements Command {}

    /** The judged initial comparisons, read again on resume for an offline algorithm to train on. */
    private record PreferencesRead(Judged judged) implements Command {}

    private record VersionTrained(Trained trained) implements Command {}

    private record ScorerSwitched(RewardModelBuilder.Version retired) implements Command {}

    private record CheckpointWritten(CheckpointSaved saved) implements Command {}

    private record CheckpointFailed(Throwable cause) implements Command {}

    private record FinalKlMeasured(KlMeasured measured) implements Command {}

    private record StepFailed(String role, String step, Throwable cause) implements Command {}

    private record RoundFailed(String reason) implements Command {}

    /** What the coordinator reports to whoever started it. */
    public sealed interface Event permits Evaluated, RewardModelTrained, IterationDone, Finished, Stopped, Failed {}

    /** Gold evaluation of the policy at {@code weightVersion} (0 is the SFT policy). */
    public record Evaluated(long weightVersion, List<String> prompts, List<Completion> completions) implements Event {}

    /** A reward-model version is in use from iteration {@code fromIteration} on. */
    public record RewardModelTrained(RewardModelInfo info, int fromIteration) implements Event {}

    /** One iteration's statistics and scalar metrics. */
    public record IterationDone(int iteration, double klToReference, Map<String, Double> scalars) implements Event {}

    /**
     * The run ended after {@code iterations} iterations with the final weights; {@code evaluationKl} holds the KL to
     * the reference of each final evaluation completion.
     */
    public record Finished(int iterations, PublishedWeights finalWeights, double[] evaluationKl) implements Event {}

    /** The run was stopped after {@code iterations} iterations; {@code checkpoint} resumes it. */
    public record Stopped(int iterations, Path checkpoint) implements Event {}

    /** The run could not go on: {@code reason} names the role that failed and why. */
    public record Failed(String reason) implements Event {}

    /**
     * The roles the coordinator spawns and supervises.
     *
     * @param localWorkers rollout workers holding the board's latest weights at the start (more may join later)
     * @param dispatcher where the roles run (their messages block on native code)
     */
    public record Roles(List<Behavior<RolloutWorker.Command>> localWorkers, Behavior<RewardScorerActor.Command> scorer,
            Behavior<LearnerActor.Command> learner, Behavior<PreferenceCollector.Command> collector,
            Behavior<RewardTrainerActor.Command> trainer, DispatcherSelector dispatcher) {}

    /**
     * Where a resumed run picks up: a checkpoint's state and the reward-model version it was scoring with (null
     * when the checkpoint precedes the first one), which the coordinator then owns.
     */
    public record Resume(RunCheckpoint.State state, RewardModelBuilder.Version rewardModel) {}

    /** Which rollout of the run is in flight: its outcome goes to that phase's step. */
    private enum Phase { EVALUATE_SFT, INITIAL_COMPARISONS, ITERATION, EVALUATE_TUNED }

    private final ExperimentSettings settings;
    private final ExperimentPlan plan;
    private final ExperimentTimeouts timeouts;
    private final WeightsBoard board;
    private final Optional<GoldScore> gold;
    private final Resume resume;
    /** The reward model a fresh run starts from instead of training v1; empty when it trains v1. */
    private final Optional<RewardModelBuilder.Version> givenRewardModel;
    private final ActorRef<Event> listener;
    private final ActorRef<RewardScorerActor.Command> scorer;
    private final ActorRef<LearnerActor.Command> learner;
    private final ActorRef<PreferenceCollector.Command> collector;
    private final ActorRef<RewardTrainerActor.Command> trainer;
    /** The role each supervised child plays, for failure messages. */
    private final Map<ActorRef<?>, String> roleNames = new HashMap<>();
    private final WorkerRegistry<ActorRef<RolloutWorker.Command>> workers = new WorkerRegistry<>();
    private final RewardModelSchedule<RewardModelBuilder.Version> schedule;

    // controls, acted on at iteration boundaries
    private boolean stopRequested;
    private final List<ActorRef<StatusReply<CheckpointSaved>>> checkpointRequests = new ArrayList<>();
    private int collectsPending;
    private boolean checkpointWaitsForJudgments;
    /** At a boundary, waiting for a reward-model version or for judgments (see RewardModelSchedule.Step.AWAIT). */
    private boolean awaiting;

    // people's judgments, read once per boundary when people judge
    private int judgmentsCountedAt = -1;
    private IterationScalars.Judgments judgments;
    /** The count of judgments since the last training last said in the log; -1 before the first. */
    private long loggedPending = -1;

    // the rollout in flight
    private ActorRef<RolloutRound.Command> round;
    private int rounds;
    private Phase phase;
    private Batch batch;

    // the iteration in flight
    private int iteration;
    /** When the run (or its resumption) started, for rlhf.experiment.budget-seconds. */
    private long runStart;
    /** The iteration the run ends before: the configured iterations, or the boundary where the budget ran out. */
    private int endIteration;
    private long iterationStart;
    private final Map<String, Double> timings = new LinkedHashMap<>();
    private boolean publishing;
    private long publishStart;
    private Learned learned;
    private List<Completion> completions;
    private float[] scores;

    private ExperimentCoordinator(ActorContext<Command> context, ExperimentSettings settings, ExperimentPlan plan,
            Roles roles, WeightsBoard board, Resume resume, Optional<RewardModelBuilder.Version> givenRewardModel,
            ExperimentTimeouts timeouts, Optional<GoldScore> gold, ActorRef<Event> listener) {
        super(context);
        this.givenRewardModel = resume == null ? givenRewardModel : Optional.empty();
        this.listener = listener;
        this.settings = settings;
        this.plan = plan;
        this.timeouts = timeouts;
        this.board = board;
        this.gold = gold;
        this.resume = resume;
        this.endIteration = settings.iterations();
        for (int i = 0; i < roles.localWorkers().size(); i++) {
            ActorRef<RolloutWorker.Command> worker = spawnRole(ROLLOUT_WORKER, "rollout-worker-" + i,
                    roles.localWorkers().get(i), SupervisorStrategy.restart(), roles.dispatcher());
            workers.add(worker, board.latest().version());
        }
        this.scorer = spawnRole(SCORER, "reward-scorer", roles.scorer(), SupervisorStrategy.stop(),
                roles.dispatcher());
        this.learner = spawnRole(LEARNER, "ppo-learner", roles.learner(), SupervisorStrategy.stop(),
                roles.dispatcher());
        this.collector = spawnRole(COLLECTOR, "preference-collector", roles.collector(), SupervisorStrategy.stop(),
                roles.dispatcher());
        this.trainer = spawnRole(TRAINER, "reward-trainer", roles.trainer(), SupervisorStrategy.stop(),
                roles.dispatcher());
        this.schedule = resume != null
                ? RewardModelSchedule.resumed(settings.iterations(), settings.retrainAfter(), resume.state(),
                        resume.rewardModel())
                : this.givenRewardModel.isPresent()
                ? RewardModelSchedule.given(settings.iterations(), settings.retrainAfter(), givenRewardModel.get())
                : RewardModelSchedule.fresh(settings.iterations(), settings.retrainAfter());
    }

    /**
     * A coordinator that continues a run from {@code resume} (from its start when null).
     *
     * @param givenRewardModel the reward model a run from its start scores with as version 1 instead of training v1
     *     on the initial comparisons (which it then neither samples nor sends for judgment); the coordinator owns
     *     it. Ignored when resuming (the checkpoint names the version in use).
     * @param gold the hidden gold score the simulated annotators judge by, when they do: each iteration then also
     *     reports its completions' mean gold score
     * @param listener hears about every iteration and the end, from the coordinator's start on (a role that fails
     *     before {@link Start} ends the run too)
     */
    public static Behavior<Command> create(ExperimentSettings settings, ExperimentPlan plan, Roles roles,
            WeightsBoard board, Resume resume, Optional<RewardModelBuilder.Version> givenRewardModel,
            ExperimentTimeouts timeouts, Optional<GoldScore> gold, ActorRef<Event> listener) {
        return Behaviors.setup(context -> new ExperimentCoordinator(context, settings, plan, roles, board, resume,
                givenRewardModel, timeouts, gold, listener));
    }

    private <T> ActorRef<T> spawnRole(String role, String name, Behavior<T> behavior, SupervisorStrategy strategy,
            DispatcherSelector dispatcher) {
        ActorRef<T> ref = getContext().spawn(Behaviors.supervise(behavior).onFailure(strategy), name, dispatcher);
        getContext().watch(ref);
        roleNames.put(ref, role);
        return ref;
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Start.class, this::onStart)
                .onMessage(Stop.class, this::onStop)
                .onMessage(CheckpointNow.class, this::onCheckpointNow)
                .onMessage(WorkerJoined.class, this::onWorkerJoined)
                .onMessage(WeightsLoaded.class, this::onWeightsLoaded)
                .onMessage(LoadFailed.class, this::onLoadFailed)
                .onMessage(RolledOut.class, this::onRolledOut)
                .onMessage(BatchLearned.class, this::onBatchLearned)
                .onMessage(BatchJudged.class, this::onBatchJudged)
                .onMessage(JudgmentsCounted.class, this::onJudgmentsCounted)
                .onMessage(JudgmentsRead.class, this::onJudgmentsRead)
                .onMessage(PreferencesRead.class, this::onPreferencesRead)
                .onMessage(VersionTrained.class, this::onVersionTrained)
                .onMessage(ScorerSwitched.class, this::onScorerSwitched)
                .onMessage(CheckpointWritten.class, this::onCheckpointWritten)
                .onMessage(CheckpointFailed.class, this::onCheckpointFailed)
                .onMessage(FinalKlMeasured.class, this::onFinalKlMeasured)
                .onMessage(StepFailed.class, this::onStepFailed)
                .onSignal(ChildFailed.class, this::onChildFailed)
                .onSignal(Terminated.class, this::onTerminated)
                .onSignal(PostStop.class, signal -> onPostStop())
                .build();
    }

    // --- start and controls ---------------------------------------------------------------------------------

    private Behavior<Command> onStart(Start message) {
        runStart = System.nanoTime();
        describeAnnotators();
        if (resume == null) {
            startRollout(Phase.EVALUATE_SFT, plan.evaluation());
            return this;
        }
        iteration = resume.state().iteration();
        if (settings.algorithm().offline() && resume.state().rewardModelVersion() >= 1) {
            if (resume.state().rewardModelVersion() != 1) {
                return fail(settings.algorithm().key() + " never retrains the reward model but the checkpoint uses v"
                        + resume.state().rewardModelVersion());
            }
            readPreferences(); // continues the resumption once the learner has its pairs again
            return this;
        }
        continueResumption();
        return this;
    }

    /**
     * An offline algorithm (DPO, IPO) resumed after reward model v1 was trained reads the judgments v1 was trained
     * on again (the same set: judgments up to the sequence number the checkpoint records) and hands them to the
     * learner before the first rollout.
     */
    private void readPreferences() {
        long through = resume.state().preferenceSequence();
        getContext().askWithStatus(Judged.class, collector, timeouts.readJudgments(),
                replyTo -> new PreferenceCollector.ReadJudged(0, through, replyTo),
                (judged, failure) -> judged != null ? new PreferencesRead(judged)
                        : new StepFailed(COLLECTOR, "reading the judgments " + settings.algorithm().key()
                                + " trains on", failure));
    }

    private Behavior<Command> onPreferencesRead(PreferencesRead read) {
        learner.tell(new LearnerActor.UsePreferences(read.judged().comparisons()));
        continueResumption();
        return this;
    }

    private void continueResumption() {
        RewardModelBuilder.Version inUse = schedule.inUse();
        if (inUse != null) {
            scorer.tell(new RewardScorerActor.UseVersion(schedule.versionInUse(), inUse.scorer(),
                    getContext().getSystem().ignoreRef()));
        }
        schedule.trainingToRedo().ifPresent(this::readJudgmentsAndTrain);
        getContext().getLog().info("resuming at iteration {} with reward model v{}", iteration,
                schedule.versionInUse());
        startIteration();
    }

    /** Says once, at the start, who judges the run's pairs when people do. */
    private void describeAnnotators() {
        switch (settings.annotators()) {
            case NONE -> getContext().getLog().info("annotators: none: the given reward model ({}) stays fixed and no "
                    + "pairs are sent for judgment", settings.rewardModel());
            case HUMAN -> getContext().getLog().info("annotators: human mode: reward model v1 {}; from iteration 0 on "
                    + "the comparison pairs go to the labeling queue for people ({} per task), and the reward model "
                    + "retrains once {} new judgments have arrived", settings.givenRewardModel()
                    ? "is the given one (" + settings.rewardModel() + ")" : "learns from the simulated panel",
                    settings.humanAnnotationsPerTask(), settings.retrainAfter());
            case MIXED -> getContext().getLog().info("annotators: mixed mode: the simulated panel judges every batch "
                    + "and each task also waits for {} more annotator(s) from the labeling queue; the reward model "
                    + "retrains once {} new judgments of either have arrived", settings.humanAnnotationsPerTask(),
                    settings.retrainAfter());
            case SIMULATED -> { }
        }
    }

    private Behavior<Command> onStop(Stop message) {
        stopRequested = true;
        if (awaiting) {
            awaiting = false; // at a boundary already: stop here rather than after one more iteration
            saveCheckpoint();
        }
        return this;
    }

    private Behavior<Command> onCheckpointNow(CheckpointNow message) {
        checkpointRequests.add(message.replyTo());
        if (awaiting) {
            awaiting = false; // at a boundary already; startIteration awaits again afterwards
            saveCheckpoint();
        }
        return this;
    }

    // --- the rollout workers -------------------------------------------------------------------------------

    private Behavior<Command> onWorkerJoined(WorkerJoined joined) {
        ActorRef<RolloutWorker.Command> worker = joined.worker();
        getContext().watch(worker);
        workers.join(worker);
        loadLatestWeights(worker);
        return this;
    }

    private void loadLatestWeights(ActorRef<RolloutWorker.Command> worker) {
        PublishedWeights latest = board.latest();
        getContext().askWithStatus(RolloutWorker.WeightsLoaded.class, worker, timeouts.loadWeights(),
                replyTo -> new RolloutWorker.LoadWeights(latest, replyTo),
                (loaded, failure) -> loaded != null
                        ? new WeightsLoaded(worker, loaded.weightVersion()) : new LoadFailed(worker, failure));
    }

    private Behavior<Command> onWeightsLoaded(WeightsLoaded loaded) {
        if (!workers.loaded(loaded.worker(), loaded.version())) {
            return this; // dropped meanwhile
        }
        if (round != null && loaded.version() == board.latest().version()) {
            round.tell(new RolloutRound.WorkerReady(loaded.worker()));
        }
        if (publishing) {
            finishPublicationIfDone();
        }
        return this;
    }

    private Behavior<Command> onLoadFailed(LoadFailed failed) {
        if (!workers.contains(failed.worker())) {
            return this; // a worker already dropped: a remote worker's proxy stops rather than answer
        }
        return fail(ROLLOUT_WORKER + " " + failed.worker().path().name() + " failed to load weights v"
                + board.latest().version() + ": " + failed.cause().getMessage());
    }

    private void workerGone(ActorRef<?> worker, String why) {
        if (workers.remove(worker)) {
            getContext().getLog().warn("rollout worker {} is gone ({}); {} left", worker.path().name(), why,
                    workers.size());
            if (publishing) {
                finishPublicationIfDone();
            }
        }
    }

    // --- rollouts -----------------------------------------------------------------------------------------------

    private void startRollout(Phase next, Batch nextBatch) {
        phase = next;
        batch = nextBatch;
        long version = board.latest().version();
        Optional<ActorRef<RewardScorerActor.Command>> scoring = next == Phase.ITERATION
                ? Optional.of(scorer) : Optional.empty();
        round = getContext().spawn(RolloutRound.create(
                        new RolloutRound.Request(batch, version, workers.holding(version), scoring), timeouts,
                        getContext().messageAdapter(RolloutRound.Outcome.class, RolledOut::new)),
                "rollout-" + ++rounds);
        getContext().watch(round);
    }

    private Behavior<Command> onRolledOut(RolledOut message) {
        round = null;
        if (message.outcome() instanceof RolloutRound.Failed failed) {
            return failAfterRoleSignals(failed.reason());
        }
        RolloutRound.Done done = (RolloutRound.Done) message.outcome();
        switch (phase) {
            case EVALUATE_SFT -> {
                listener.tell(new Evaluated(0, batch.prompts(), done.completions()));
                if (givenRewardModel.isPresent()) {
                    useGivenRewardModel(givenRewardModel.get());
                } else {
                    startRollout(Phase.INITIAL_COMPARISONS, plan.comparisons());
                }
            }
            case INITIAL_COMPARISONS -> {
                schedule.initialComparisonsSent();
                collect(plan.initialComparisons(batch, done.completions()), 0);
                startIteration(); // awaits reward model v1
            }
            case ITERATION -> learn(done);
            case EVALUATE_TUNED -> measureFinalKl(done.completions());
        }
        return this;
    }

    // --- an iteration -------------------------------------------------------------------------------------------

    /** At the boundary before {@code iteration}: swaps in a due reward model, then rolls out (or ends the run). */
    private void startIteration() {
        switch (schedule.at(iteration)) {
            case AWAIT -> {
                if (stopRequested || !checkpointRequests.isEmpty()) {
                    saveCheckpoint(); // comes back here once it is written
                } else {
                    awaiting = true; // comes back here once what is awaited arrives
                }
                return;
            }
            case SWAP -> {
                switchScorer(); // comes back here once the scorer uses it
                return;
            }
            case PROCEED -> { }
        }
        if (iteration == endIteration) {
            startRollout(Phase.EVALUATE_TUNED, plan.evaluation());
            return;
        }
        if (settings.annotators().people() && judgmentsCountedAt != iteration) {
            judgmentsCountedAt = iteration;
            countJudgments(); // comes back here once the store's newest judgment is known
            return;
        }
        iterationStart = System.nanoTime();
        timings.clear();
        startRollout(Phase.ITERATION, plan.iteration(iteration));
    }

    private void learn(RolloutRound.Done done) {
        timings.put("time/rollout_s", done.rolloutSeconds());
        timings.put("time/scoring_s", done.scoringSeconds());
        completions = done.completions();
        scores = done.scores();
        List<int[]> prompts = batch.requests().stream().map(GenerationRequest::promptIds).toList();
        int at = iteration;
        getContext().askWithStatus(Learned.class, learner, timeouts.learn(),
                replyTo -> new LearnerActor.Learn(at, prompts, completions, scores, replyTo),
                (learnt, failure) -> learnt != null
                        ? new BatchLearned(learnt) : new StepFailed(LEARNER, "the update of iteration " + at, failure));
        if (settings.pairs() > 0) {
            schedule.pairsSent(iteration);
            collect(plan.iterationPairs(iteration, batch, completions), board.latest().version());
        }
    }

    private Behavior<Command> onBatchLearned(BatchLearned message) {
        learned = message.learned();
        timings.put("time/learn_s", learned.seconds());
        board.publish(learned.weights());
        publishing = true;
        publishStart = System.nanoTime();
        workers.workers().forEach(this::loadLatestWeights);
        finishPublicationIfDone(); // at once when no worker is left
        return this;
    }

    /** Ends the publication once every worker holds the new weights: the iteration is over. */
    private void finishPublicationIfDone() {
        if (!workers.allHold(board.latest().version())) {
            return;
        }
        publishing = false;
        timings.put("time/publish_s", (System.nanoTime() - publishStart) / 1e9);
        timings.put("time/iteration_s", (System.nanoTime() - iterationStart) / 1e9);
        listener.tell(new IterationDone(iteration, learned.klToReference(), IterationScalars.of(learned.scalars(),
                learned.weights().version(), schedule.versionInUse(), batch.prompts(), completions, scores,
                gold, Optional.ofNullable(judgments), timings)));
        iteration++;
        endIfBudgetSpent();
        boolean scheduled = iteration % settings.checkpointEvery() == 0 || iteration == endIteration;
        if (scheduled || stopRequested || !checkpointRequests.isEmpty()) {
            saveCheckpoint();
        } else {
            startIteration();
        }
    }

    /**
     * Makes this boundary the run's last (as if the configured iterations were done) once the wall-clock budget
     * ({@code rlhf.experiment.budget-seconds}, 0 for none) is spent.
     */
    private void endIfBudgetSpent() {
        double elapsed = (System.nanoTime() - runStart) / 1e9;
        if (settings.budgetSeconds() > 0 && iteration < endIteration && elapsed >= settings.budgetSeconds()) {
            endIteration = iteration;
            getContext().getLog().info("the budget of {} s is spent ({} s) after iteration {} of {}: the run ends "
                    + "here", settings.budgetSeconds(), String.format("%.1f", elapsed), iteration,
                    settings.iterations());
        }
    }

    private void measureFinalKl(List<Completion> evaluated) {
        listener.tell(new Evaluated(board.latest().version(), batch.prompts(), evaluated));
        List<int[]> prompts = batch.requests().stream().map(GenerationRequest::promptIds).toList();
        getContext().askWithStatus(KlMeasured.class, learner, timeouts.measureKl(),
                replyTo -> new LearnerActor.MeasureKl(prompts, evaluated, replyTo),
                (measured, failure) -> measured != null
                        ? new FinalKlMeasured(measured) : new StepFailed(LEARNER, "measuring the final KL", failure));
    }

    private Behavior<Command> onFinalKlMeasured(FinalKlMeasured message) {
        listener.tell(new Finished(iteration, board.latest(), message.measured().perCompletion()));
        return Behaviors.stopped();
    }

    // --- checkpoints --------------------------------------------------------------------------------------------

    /** Checkpoints this boundary once no batch awaits judgment (so the checkpoint's retraining state is final). */
    private void saveCheckpoint() {
        if (collectsPending > 0) {
            checkpointWaitsForJudgments = true; // comes back here once the last batch is judged
            return;
        }
        RunCheckpoint.State state = schedule.checkpointState(iteration);
        getContext().askWithStatus(CheckpointSaved.class, learner, timeouts.checkpoint(),
                replyTo -> new LearnerActor.SaveCheckpoint(state, replyTo),
                (saved, failure) -> saved != null ? new CheckpointWritten(saved) : new CheckpointFailed(failure));
    }

    private Behavior<Command> onCheckpointWritten(CheckpointWritten written) {
        checkpointRequests.forEach(requester -> requester.tell(StatusReply.success(written.saved())));
        checkpointRequests.clear();
        if (stopRequested) {
            getContext().getLog().info("stopped after iteration {}; resume from {}", iteration,
                    written.saved().path());
            listener.tell(new Stopped(iteration, written.saved().path()));
            return Behaviors.stopped();
        }
        startIteration();
        return this;
    }

    private Behavior<Command> onCheckpointFailed(CheckpointFailed failed) {
        String reason = "checkpoint of iteration " + iteration + " failed: " + failed.cause().getMessage();
        checkpointRequests.forEach(requester -> requester.tell(StatusReply.error(reason)));
        checkpointRequests.clear();
        return fail(LEARNER + " failed: " + reason);
    }

    // --- judgments and reward models ----------------------------------------------------------------------------

    private void collect(ComparisonBatch pairs, long policyVersion) {
        collectsPending++;
        Labeling labeling = labelingOf(pairs);
        getContext().askWithStatus(Collected.class, collector, timeouts.collect(),
                replyTo -> new PreferenceCollector.Collect(pairs.storeId(), pairs.comparisons(), "v" + policyVersion,
                        labeling, replyTo),
                (collected, failure) -> collected != null ? new BatchJudged(pairs.iteration(), labeling, collected)
                        : new StepFailed(COLLECTOR, "judging batch " + pairs.storeId(), failure));
    }

    /** Who judges a batch: the panel alone in simulated mode and for human mode's initial comparisons. */
    private Labeling labelingOf(ComparisonBatch pairs) {
        return switch (settings.annotators()) {
            case NONE -> throw new IllegalStateException("annotators mode none sends no batch for judgment");
            case SIMULATED -> Labeling.PANEL;
            case HUMAN -> pairs.initial() ? Labeling.PANEL : Labeling.people(settings.humanAnnotationsPerTask());
            case MIXED -> Labeling.panelAndPeople(settings.humanAnnotationsPerTask());
        };
    }

    private Behavior<Command> onBatchJudged(BatchJudged judged) {
        collectsPending--;
        if (judged.labeling().panel()) {
            schedule.judged(judged.iteration(), judged.collected().lastSequence())
                    .ifPresent(this::readJudgmentsAndTrain);
        } else {
            schedule.queued(judged.iteration()); // people judge it later: counted at the coming boundaries
        }
        if (checkpointWaitsForJudgments && collectsPending == 0) {
            checkpointWaitsForJudgments = false;
            saveCheckpoint();
        } else {
            resumeIfAwaiting();
        }
        return this;
    }

    /** Asks the collector for the store's newest judgment (after every batch sent before). */
    private void countJudgments() {
        getContext().askWithStatus(LastSequence.class, collector, timeouts.readJudgments(),
                PreferenceCollector.ReadLastSequence::new,
                (last, failure) -> last != null ? new JudgmentsCounted(last)
                        : new StepFailed(COLLECTOR, "reading the store's newest judgment before iteration " + iteration,
                                failure));
    }

    /** Starts a training when enough judgments arrived, notes them for the iteration's metrics, then rolls out. */
    private Behavior<Command> onJudgmentsCounted(JudgmentsCounted counted) {
        long newest = counted.last().sequence();
        long arrived = schedule.judgmentsSinceTraining(newest);
        Optional<Training> training = schedule.judgmentsArrived(iteration, newest);
        if (training.isPresent()) {
            getContext().getLog().info("{} judgments since the last reward-model training: reward model v{} trains "
                    + "on every judgment through #{} and is due at iteration {}", arrived, training.get().version(),
                    training.get().throughSequence(), training.get().dueIteration());
            readJudgmentsAndTrain(training.get());
        }
        long pending = schedule.judgmentsSinceTraining(newest);
        if (training.isEmpty() && pending != loggedPending) {
            int inUse = schedule.versionInUse();
            if (pending == 0) {
                getContext().getLog().info("no new judgments since the last reward-model training; going on with "
                        + "reward model v{} (iteration {})", inUse, iteration);
            } else if (schedule.training()) {
                getContext().getLog().info("{} judgments since the last reward-model training, which is still in "
                        + "flight; going on with reward model v{} (iteration {})", pending, inUse, iteration);
            } else if (pending >= settings.retrainAfter()) {
                getContext().getLog().info("{} judgments since the last reward-model training, too late for a new "
                        + "version to be used before the run ends; going on with reward model v{} (iteration {})",
                        pending, inUse, iteration);
            } else {
                getContext().getLog().info("{} judgments since the last reward-model training (it retrains after "
                        + "{}); going on with reward model v{} (iteration {})", pending, settings.retrainAfter(),
                        inUse, iteration);
            }
        }
        loggedPending = pending;
        judgments = new IterationScalars.Judgments(newest, pending);
        startIteration();
        return this;
    }

    /** Reads the judgments through the training's sequence number (the same set on every run) to train on them. */
    private void readJudgmentsAndTrain(Training training) {
        getContext().askWithStatus(Judged.class, collector, timeouts.readJudgments(),
                replyTo -> new PreferenceCollector.ReadJudged(0, training.throughSequence(), replyTo),
                (judged, failure) -> judged != null ? new JudgmentsRead(training, judged)
                        : new StepFailed(COLLECTOR, "reading judgments for reward model v" + training.version(),
                                failure));
    }

    private Behavior<Command> onJudgmentsRead(JudgmentsRead read) {
        Training training = read.training();
        if (settings.algorithm().offline() && training.version() == 1) {
            // DPO and IPO train on the judgments v1 trains on; the learner has them before its first update
            learner.tell(new LearnerActor.UsePreferences(read.judged().comparisons()));
        }
        RewardModelBuilder.Version previous = schedule.inUse();
        getContext().askWithStatus(Trained.class, trainer, timeouts.rewardTraining(),
                replyTo -> new RewardTrainerActor.Train(training.version(), previous, read.judged().comparisons(),
                        replyTo),
                (trained, failure) -> trained != null ? new VersionTrained(trained)
                        : new StepFailed(TRAINER, "training reward model v" + training.version(), failure));
        return this;
    }

    private Behavior<Command> onVersionTrained(VersionTrained message) {
        RewardModelBuilder.Version version = message.trained().result();
        schedule.trained(version, version.info().trainedThroughSequence());
        resumeIfAwaiting();
        return this;
    }

    /** Has the scorer use the given reward model as version 1; iteration 0 starts once it acknowledges. */
    private void useGivenRewardModel(RewardModelBuilder.Version given) {
        listener.tell(new RewardModelTrained(given.info(), 0));
        getContext().askWithStatus(RewardScorerActor.VersionInUse.class, scorer, timeouts.scoring(),
                replyTo -> new RewardScorerActor.UseVersion(1, given.scorer(), replyTo),
                (inUse, failure) -> inUse != null ? new ScorerSwitched(null)
                        : new StepFailed(SCORER, "switching to the given reward model", failure));
    }

    /** Swaps the due version in and has the scorer use it; the iteration starts once the scorer acknowledges. */
    private void switchScorer() {
        RewardModelSchedule.Swapped<RewardModelBuilder.Version> swapped = schedule.swap();
        RewardModelBuilder.Version version = swapped.now();
        listener.tell(new RewardModelTrained(version.info(), iteration));
        getContext().askWithStatus(RewardScorerActor.VersionInUse.class, scorer, timeouts.scoring(),
                replyTo -> new RewardScorerActor.UseVersion(swapped.version(), version.scorer(), replyTo),
                (inUse, failure) -> inUse != null ? new ScorerSwitched(swapped.retired())
                        : new StepFailed(SCORER, "switching to reward model v" + swapped.version(), failure));
    }

    private Behavior<Command> onScorerSwitched(ScorerSwitched switched) {
        if (switched.retired() != null) {
            switched.retired().close();
        }
        startIteration();
        return this;
    }

    private void resumeIfAwaiting() {
        if (awaiting) {
            awaiting = false;
            startIteration();
        }
    }

    // --- failures -----------------------------------------------------------------------------------------------

    private Behavior<Command> onStepFailed(StepFailed failed) {
        if (failed.cause() instanceof TimeoutException) {
            return fail(failed.role() + " did not answer in time: " + failed.step() + " ("
                    + failed.cause().getMessage() + ")");
        }
        return fail(failed.role() + " failed: " + failed.cause().getMessage());
    }

    private Behavior<Command> onChildFailed(ChildFailed failed) {
        String role = roleNames.get(failed.getRef());
        if (ROLLOUT_WORKER.equals(role)) {
            workerGone(failed.getRef(), "it failed to restart: " + failed.getCause());
            return this;
        }
        if (role == null) {
            role = "rollout of " + phase.name().toLowerCase(); // the round itself failed
        }
        return fail(role + " failed: " + failed.getCause());
    }

    private Behavior<Command> onTerminated(Terminated terminated) {
        String role = roleNames.get(terminated.getRef());
        if (role == null || ROLLOUT_WORKER.equals(role)) {
            workerGone(terminated.getRef(), "its actor stopped"); // a round that ended is not a worker
            return this;
        }
        return fail(role + " stopped");
    }

    /**
     * A round's failure can be the symptom of a role that crashed: the scorer's stop fails the round's next ask at
     * once, and that answer may reach here before the scorer's own {@link ChildFailed}. Waiting a moment for the
     * roles' signals fails the run with the crashed role's exception rather than with what the round saw of it.
     */
    private Behavior<Command> failAfterRoleSignals(String reason) {
        getContext().scheduleOnce(ROLE_SIGNAL_GRACE, getContext().getSelf(), new RoundFailed(reason));
        return newReceiveBuilder()
                .onMessage(RoundFailed.class, failed -> fail(failed.reason()))
                .onSignal(ChildFailed.class, failed -> stillFailingUnless(onChildFailed(failed)))
                .onSignal(Terminated.class, terminated -> stillFailingUnless(onTerminated(terminated)))
                .onSignal(PostStop.class, signal -> onPostStop())
                .build();
    }

    /** While a round's failure waits, a signal that does not end the run (a worker gone) leaves it waiting. */
    private Behavior<Command> stillFailingUnless(Behavior<Command> next) {
        return next == this ? Behaviors.same() : next;
    }

    private Behavior<Command> fail(String reason) {
        getContext().getLog().error("experiment failed: {}", reason);
        listener.tell(new Failed(reason));
        return Behaviors.stopped();
    }

    /** Closes the reward-model versions still held; the children (the scorer among them) have stopped by now. */
    private Behavior<Command> onPostStop() {
        if (schedule.inUse() != null) {
            schedule.inUse().close();
        }
        if (schedule.ready() != null) {
            schedule.ready().close();
        }
        return this;
    }
}
