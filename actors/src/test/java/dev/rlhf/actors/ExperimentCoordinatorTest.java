package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.BehaviorInterceptor;
import org.apache.pekko.actor.typed.TypedActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator alone, its roles scripted (see {@link ScriptedRoles}) and its events read by a typed probe: a
 * role that fails ends the run as Failed within seconds naming the role, and the rollout survives late answers
 * and workers that leave.
 */
class ExperimentCoordinatorTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static final Duration FAILS_WITHIN = Duration.ofSeconds(10);
    private static NDManager manager;

    private ActorRef<ExperimentCoordinator.Command> coordinator;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        TESTKIT.shutdownTestKit();
        manager.close();
    }

    @AfterEach
    void stopCoordinator() {
        if (coordinator != null) {
            TESTKIT.stop(coordinator);
        }
    }

    @Test
    void aRunWithEveryRoleAnsweringFinishes() {
        TestProbe<Event> events = TESTKIT.createTestProbe();

        start(scriptedRoles(), ScriptedRoles.timeouts(Duration.ofMinutes(1), 3), events);

        assertEquals(0, events.expectMessageClass(ExperimentCoordinator.Evaluated.class).weightVersion());
        assertEquals(1, events.expectMessageClass(ExperimentCoordinator.RewardModelTrained.class).info().version());
        ExperimentCoordinator.IterationDone first = events.expectMessageClass(ExperimentCoordinator.IterationDone.class);
        assertEquals(0, first.iteration());
        assertEquals(1.0, first.scalars().get("policy/weight_version"));
        assertEquals(1, events.expectMessageClass(ExperimentCoordinator.IterationDone.class).iteration());
        assertEquals(2, events.expectMessageClass(ExperimentCoordinator.Evaluated.class).weightVersion());
        ExperimentCoordinator.Finished finished = events.expectMessageClass(ExperimentCoordinator.Finished.class);
        assertEquals(2, finished.iterations());
        assertEquals(2, finished.finalWeights().version());
    }

    @Test
    void inHumanModePeoplesJudgmentsCountedAtABoundaryRetrainTheRewardModelAndEachIterationReportsThem() {
        // four iterations, one pair each, for one person, retraining after one new judgment
        ExperimentSettings human = new ExperimentSettings("", "", 0.1, "", Path.of("unused"), 1, 4, 4, 2, 1, 1,
                ScriptedRoles.SETTINGS.sampling(), 4, 2, 0, true, 1, 1, 0, AnnotatorsMode.HUMAN, 1,
                Algorithm.PPO, 1);
        TestProbe<Event> events = TESTKIT.createTestProbe();

        coordinator = TESTKIT.spawn(ExperimentCoordinator.create(human, ScriptedRoles.plan(human), scriptedRoles(),
                new WeightsBoard(new WeightsSnapshot(0, Map.of())), null, Optional.empty(),
                ScriptedRoles.timeouts(Duration.ofMinutes(1), 3), Optional.empty(), events.getRef()));
        coordinator.tell(new ExperimentCoordinator.Start());

        events.expectMessageClass(ExperimentCoordinator.Evaluated.class);
        ExperimentCoordinator.RewardModelTrained first =
                events.expectMessageClass(ExperimentCoordinator.RewardModelTrained.class);
        // the panel judged the 2 initial comparisons (#1-2); the person judges each iteration's pair after it
        assertJudgments(2, 0, events.expectMessageClass(ExperimentCoordinator.IterationDone.class));
        assertJudgments(3, 0, events.expectMessageClass(ExperimentCoordinator.IterationDone.class));
        assertJudgments(4, 1, events.expectMessageClass(ExperimentCoordinator.IterationDone.class));
        ExperimentCoordinator.RewardModelTrained second =
                events.expectMessageClass(ExperimentCoordinator.RewardModelTrained.class);
        assertJudgments(5, 2, events.expectMessageClass(ExperimentCoordinator.IterationDone.class));
        events.expectMessageClass(ExperimentCoordinator.Evaluated.class);
        events.expectMessageClass(ExperimentCoordinator.Finished.class);

        assertEquals(1, first.info().version());
        assertEquals(2, second.info().version(), "the person's judgment of iteration 0's pair, counted before "
                + "iteration 1, trains v2");
        assertEquals(3, second.fromIteration(), "due two iterations after the boundary that started it");
    }

    @Test
    void eachModeSendsItsBatchesToItsAnnotators() {
        assertEquals(List.of("initial " + PreferenceCollector.Labeling.PANEL,
                        "iter-0 " + PreferenceCollector.Labeling.PANEL, "iter-1 " + PreferenceCollector.Labeling.PANEL),
                labelingsOfARun(AnnotatorsMode.SIMULATED));
        assertEquals(List.of("initial " + PreferenceCollector.Labeling.PANEL,
                        "iter-0 " + PreferenceCollector.Labeling.people(2),
                        "iter-1 " + PreferenceCollector.Labeling.people(2)),
                labelingsOfARun(AnnotatorsMode.HUMAN), "v1 comes from the panel, the iteration pairs go to people");
        assertEquals(List.of("initial " + PreferenceCollector.Labeling.panelAndPeople(2),
                        "iter-0 " + PreferenceCollector.Labeling.panelAndPeople(2),
                        "iter-1 " + PreferenceCollector.Labeling.panelAndPeople(2)),
                labelingsOfARun(AnnotatorsMode.MIXED), "the panel judges every batch, and people may too");
    }

    /** The batch id and labeling of every Collect of a two-iteration run in {@code mode}, two people per task. */
    private List<String> labelingsOfARun(AnnotatorsMode mode) {
        ExperimentSettings settings = new ExperimentSettings("", "", 0.1, "", Path.of("unused"), 1, 2, 4, 2, 1, 1,
                ScriptedRoles.SETTINGS.sampling(), 4, 2, 0, true, 1, 1_000_000, 0, mode, 2,
                Algorithm.PPO, 1);
        List<String> labelings = new CopyOnWriteArrayList<>();
        Behavior<PreferenceCollector.Command> scripted = ScriptedRoles.collector();
        Behavior<PreferenceCollector.Command> recording = Behaviors.intercept(
                () -> new BehaviorInterceptor<>(PreferenceCollector.Command.class) {
                    @Override
                    public Behavior<PreferenceCollector.Command> aroundReceive(
                            TypedActorContext<PreferenceCollector.Command> context,
                            PreferenceCollector.Command message, ReceiveTarget<PreferenceCollector.Command> target) {
                        if (message instanceof PreferenceCollector.Collect collect) {
                            labelings.add(collect.batchId() + " " + collect.labeling());
                        }
                        return target.apply(context, message);
                    }
                }, scripted);
        TestProbe<Event> events = TESTKIT.createTestProbe();
        coordinator = TESTKIT.spawn(ExperimentCoordinator.create(settings, ScriptedRoles.plan(settings),
                roles(Map.of("collector", recording)), new WeightsBoard(new WeightsSnapshot(0, Map.of())), null,
                Optional.empty(), ScriptedRoles.timeouts(Duration.ofMinutes(1), 3), Optional.empty(),
                events.getRef()));
        coordinator.tell(new ExperimentCoordinator.Start());
        events.fishForMessage(Duration.ofSeconds(20), event -> event instanceof ExperimentCoordinator.Finished
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
        TESTKIT.createTestProbe().expectTerminated(coordinator, Duration.ofSeconds(5));
        coordinator = null;
        return List.copyOf(labelings);
    }

    private static void assertJudgments(double total, double pending, ExperimentCoordinator.IterationDone done) {
        assertEquals(total, done.scalars().get("preferences/judgments_total"),
                "judgments in the store before iteration " + done.iteration());
        assertEquals(pending, done.scalars().get("preferences/judgments_pending"),
                "judgments since the last training before iteration " + done.iteration());
    }

    @Test
    void inSimulatedModeNoIterationReportsJudgments() {
        TestProbe<Event> events = TESTKIT.createTestProbe();

        start(scriptedRoles(), ScriptedRoles.timeouts(Duration.ofMinutes(1), 3), events);

        ExperimentCoordinator.IterationDone done = (ExperimentCoordinator.IterationDone) events.fishForMessage(
                Duration.ofSeconds(20), event -> event instanceof ExperimentCoordinator.IterationDone
                        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore()).get(0);
        assertTrue(done.scalars().keySet().stream().noneMatch(key -> key.startsWith("preferences/")),
                "metrics.jsonl of a simulated run stays as it was: " + done.scalars().keySet());
    }

    @Test
    void aLearnerThatThrowsEndsTheRunNamingIt() {
        assertFailsNaming(roles(Map.of("learner",
                ScriptedRoles.throwing(LearnerActor.Command.class, "boom in the update"))),
                "learner", "boom in the update");
    }

    @Test
    void aScorerThatThrowsEndsTheRunNamingIt() {
        assertFailsNaming(roles(Map.of("scorer", scorerThatThrowsOnScore())), "reward scorer", "boom in scoring");
    }

    @Test
    void aScorerThatCrashesAfterTheRoundGaveUpOnItIsNamedWithItsOwnCause() {
        TestProbe<Event> events = TESTKIT.createTestProbe();
        Duration minute = Duration.ofMinutes(1);
        // scoring times out after 500 ms and fails the round; the scorer crashes 100 ms later, well within the
        // coordinator's wait for the roles' signals
        ExperimentTimeouts scoringTimesOut = new ExperimentTimeouts(minute, 3, minute, minute, Duration.ofMillis(500),
                minute, minute, minute, minute, minute, minute, minute);

        start(roles(Map.of("scorer", scorerThatCrashesLate(Duration.ofMillis(600)))), scoringTimesOut, events);

        ExperimentCoordinator.Failed failed = awaitFailure(events);
        assertEquals("reward scorer failed: java.lang.IllegalStateException: boom after the timeout", failed.reason());
        TESTKIT.createTestProbe().expectTerminated(coordinator, Duration.ofSeconds(5));
        coordinator = null;
    }

    @Test
    void aRewardTrainerThatThrowsEndsTheRunNamingIt() {
        assertFailsNaming(roles(Map.of("trainer",
                ScriptedRoles.throwing(RewardTrainerActor.Command.class, "boom in training"))),
                "reward-model trainer", "boom in training");
    }

    @Test
    void aStoreThatFailsUnderTheCollectorEndsTheRunNamingIt(@TempDir Path dir) {
        PreferenceStore store = PreferenceStore.open(
                PreferenceStoreSettings.fromConfig(ConfigFactory.load()).withPath(dir.resolve("preferences")));
        store.close(); // every write fails from now on
        PreferenceLoop loop = new PreferenceLoop(store,
                new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(ConfigFactory.load())));

        assertFailsNaming(roles(Map.of("collector", PreferenceCollector.create(loop))), "preference collector", "");
    }

    @Test
    void aLateAnswerFromAnEarlierRolloutIsIgnored() {
        TestProbe<RolloutWorker.Generate> slowWorker = TESTKIT.createTestProbe();
        TestProbe<Event> events = TESTKIT.createTestProbe();
        ExperimentCoordinator.Roles roles = ScriptedRoles.roles(
                List.of(forwardingGenerateTo(slowWorker), ScriptedRoles.worker("fast")), ScriptedRoles.scorer(),
                ScriptedRoles.learner(), ScriptedRoles.collector(), ScriptedRoles.trainer(manager));

        // chunk 0 of every rollout goes to the slow worker first, times out and is retried on the fast one; the
        // attempts leave room for a fast answer delayed by a loaded machine
        start(roles, ScriptedRoles.timeouts(Duration.ofMillis(500), 10), events);
        RolloutWorker.Generate firstRollout = slowWorker.expectMessageClass(RolloutWorker.Generate.class);
        events.expectMessageClass(ExperimentCoordinator.Evaluated.class); // chunk 0 was retried on "fast"
        slowWorker.expectMessageClass(RolloutWorker.Generate.class); // the next rollout's chunk 0
        firstRollout.replyTo().tell(StatusReply.success(ScriptedRoles.rollout("late", firstRollout, 0)));

        ExperimentCoordinator.Evaluated tuned = null;
        Event event;
        while (!((event = events.receiveMessage(Duration.ofSeconds(20))) instanceof ExperimentCoordinator.Finished)) {
            if (event instanceof ExperimentCoordinator.Evaluated evaluated) {
                tuned = evaluated;
            }
        }
        assertEquals(2, tuned.weightVersion());
        assertTrue(tuned.completions().stream().map(Completion::text).allMatch(text -> text.startsWith("fast:")),
                "every completion came from the worker that answered in time: " + texts(tuned.completions()));
    }

    @Test
    void aWorkerThatLeavesMidChunkHasItsChunkRetriedElsewhere() {
        TestProbe<RolloutWorker.Generate> leaving = TESTKIT.createTestProbe();
        TestProbe<Event> events = TESTKIT.createTestProbe();
        Behavior<RolloutWorker.Command> leavesOnFirstChunk = Behaviors.receive(RolloutWorker.Command.class)
                .onMessage(RolloutWorker.Generate.class, generate -> {
                    leaving.getRef().tell(generate);
                    return Behaviors.stopped(); // without answering
                })
                .build();
        ExperimentCoordinator.Roles roles = ScriptedRoles.roles(
                List.of(leavesOnFirstChunk, ScriptedRoles.worker("stays")), ScriptedRoles.scorer(),
                ScriptedRoles.learner(), ScriptedRoles.collector(), ScriptedRoles.trainer(manager));

        start(roles, ScriptedRoles.timeouts(Duration.ofMinutes(5), 3), events); // a retry cannot wait for a timeout
        assertEquals(0, leaving.expectMessageClass(RolloutWorker.Generate.class).chunk());

        ExperimentCoordinator.Evaluated sft = events.expectMessageClass(ExperimentCoordinator.Evaluated.class,
                Duration.ofSeconds(5));
        assertEquals(4, sft.completions().size());
        assertTrue(sft.completions().stream().map(Completion::text).allMatch(text -> text.startsWith("stays:")),
                texts(sft.completions()));
        events.fishForMessage(Duration.ofSeconds(20), event -> event instanceof ExperimentCoordinator.Finished
                ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    private void start(ExperimentCoordinator.Roles roles, ExperimentTimeouts timeouts, TestProbe<Event> events) {
        coordinator = TESTKIT.spawn(ExperimentCoordinator.create(ScriptedRoles.SETTINGS, ScriptedRoles.plan(), roles,
                new WeightsBoard(new WeightsSnapshot(0, Map.of())), null, Optional.empty(), timeouts,
                Optional.empty(),
                events.getRef()));
        coordinator.tell(new ExperimentCoordinator.Start());
    }

    private void assertFailsNaming(ExperimentCoordinator.Roles roles, String role, String cause) {
        TestProbe<Event> events = TESTKIT.createTestProbe();
        long started = System.nanoTime();

        start(roles, ScriptedRoles.timeouts(Duration.ofMinutes(1), 3), events);

        ExperimentCoordinator.Failed failed = awaitFailure(events);
        double seconds = (System.nanoTime() - started) / 1e9;
        assertTrue(failed.reason().startsWith(role + " "), "the reason names the role: " + failed.reason());
        assertTrue(failed.reason().contains(cause), "the reason gives the cause: " + failed.reason());
        assertTrue(seconds < FAILS_WITHIN.toSeconds(), "failed after " + seconds + " s");
        events.expectNoMessage(Duration.ofMillis(200));
        TESTKIT.createTestProbe().expectTerminated(coordinator, Duration.ofSeconds(5));
        coordinator = null;
    }

    /** The run's {@link ExperimentCoordinator.Failed}, skipping the events before it. */
    private static ExperimentCoordinator.Failed awaitFailure(TestProbe<Event> events) {
        return (ExperimentCoordinator.Failed) events.fishForMessage(FAILS_WITHIN,
                event -> event instanceof ExperimentCoordinator.Failed
                        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
                        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore())
                .get(0);
    }

    /** The scripted roles, with those named in {@code replaced} ("scorer", "learner", ...) swapped. */
    @SuppressWarnings("unchecked")
    private static ExperimentCoordinator.Roles roles(Map<String, Behavior<?>> replaced) {
        return ScriptedRoles.roles(List.of(ScriptedRoles.worker("a"), ScriptedRoles.worker("b")),
                (Behavior<RewardScorerActor.Command>) replaced.getOrDefault("scorer", ScriptedRoles.scorer()),
                (Behavior<LearnerActor.Command>) replaced.getOrDefault("learner", ScriptedRoles.learner()),
                (Behavior<PreferenceCollector.Command>) replaced.getOrDefault("collector", ScriptedRoles.collector()),
                (Behavior<RewardTrainerActor.Command>) replaced.getOrDefault("trainer",
                        ScriptedRoles.trainer(manager)));
    }

    private static ExperimentCoordinator.Roles scriptedRoles() {
        return roles(Map.of());
    }

    private static Behavior<RewardScorerActor.Command> scorerThatThrowsOnScore() {
        return Behaviors.receive(RewardScorerActor.Command.class)
                .onMessage(RewardScorerActor.UseVersion.class, use -> {
                    use.replyTo().tell(StatusReply.success(new RewardScorerActor.VersionInUse(use.version())));
                    return Behaviors.same();
                })
                .onMessage(RewardScorerActor.Score.class, score -> {
                    throw new IllegalStateException("boom in scoring");
                })
                .build();
    }

    /** A scorer that never answers a score request and throws {@code after} the first one. */
    private static Behavior<RewardScorerActor.Command> scorerThatCrashesLate(Duration after) {
        int crash = -1; // a version number no run uses: the scorer's own timer, not the coordinator, sends it
        return Behaviors.withTimers(timers -> Behaviors.receive(RewardScorerActor.Command.class)
                .onMessage(RewardScorerActor.UseVersion.class, use -> {
                    if (use.version() == crash) {
                        throw new IllegalStateException("boom after the timeout");
                    }
                    use.replyTo().tell(StatusReply.success(new RewardScorerActor.VersionInUse(use.version())));
                    return Behaviors.same();
                })
                .onMessage(RewardScorerActor.Score.class, score -> {
                    if (!timers.isTimerActive("crash")) {
                        timers.startSingleTimer("crash", new RewardScorerActor.UseVersion(crash, null, null), after);
                    }
                    return Behaviors.same();
                })
                .build());
    }

    /** A worker whose chunks go to {@code probe} unanswered; it loads weights at once. */
    private static Behavior<RolloutWorker.Command> forwardingGenerateTo(TestProbe<RolloutWorker.Generate> probe) {
        return Behaviors.receive(RolloutWorker.Command.class)
                .onMessage(RolloutWorker.Generate.class, generate -> {
                    probe.getRef().tell(generate);
                    return Behaviors.same();
                })
                .onMessage(RolloutWorker.LoadWeights.class, load -> {
                    load.replyTo().tell(StatusReply.success(
                            new RolloutWorker.WeightsLoaded(0, load.weights().version())));
                    return Behaviors.same();
                })
                .build();
    }

    private static String texts(List<Completion> completions) {
        return completions.stream().map(Completion::text).toList().toString();
    }
}
