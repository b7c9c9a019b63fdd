package dev.rlhf.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigRenderOptions;
import dev.rlhf.actors.Algorithm;
import dev.rlhf.actors.ExperimentTimeouts;
import dev.rlhf.actors.LearnerActor;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.LearnResponse;
import dev.rlhf.proto.v1.LearnerServiceGrpc;
import dev.rlhf.proto.v1.MeasureKlResponse;
import dev.rlhf.proto.v1.OpenRunRequest;
import dev.rlhf.proto.v1.OpenRunResponse;
import dev.rlhf.proto.v1.SaveCheckpointResponse;
import dev.rlhf.proto.v1.UsePreferencesResponse;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.pattern.StatusReply;

/**
 * The learner role played by the learner node ({@code rlhf node --role learner}), seen from the coordinator: it
 * speaks {@link LearnerActor.Command}, so the coordinator cannot tell it from a local learner. It finds the node
 * through the Receptionist (waiting up to {@code rlhf.cluster.worker-wait-timeout}), opens the run there (a fresh
 * learner, or the one the node's checkpoint of the resumed iteration saved; the node checks that its SFT policy is
 * the coordinator's), then forwards each command to the node's LearnerService one call at a time, in arrival order
 * (later ones wait in a stash). Each update answers with a weight version that only the node holds
 * ({@link dev.rlhf.actors.PublishedWeights.OnLearnerNode}): the rollout node proxies have the node send it
 * ({@link LearnerLink}). Each checkpoint the node writes is recorded in the run directory
 * ({@link RunCheckpoint#record}).
 *
 * <p>The learner's state lives on the node, so its loss is the learner's: a failed call answers its caller with the
 * error and fails this actor, as does the node leaving the cluster or becoming unreachable; the coordinator then
 * ends the run naming the learner, and {@code --resume} continues from the last checkpoint.
 */
public final class RemoteLearner extends AbstractBehavior<LearnerActor.Command> {
    private static final int STASH_CAPACITY = 64;
    private static final Object WAIT_TIMER = "no-learner-node";

    private record Listed(Receptionist.Listing listing) implements LearnerActor.Internal {}

    private record Resolved(ActorRef<NodeEndpoint.GetAddress> ref, NodeEndpoint.Address address)
            implements LearnerActor.Internal {}

    private record Unresolved(ActorRef<NodeEndpoint.GetAddress> ref, Throwable cause)
            implements LearnerActor.Internal {}

    private record Opened(OpenRunResponse response, Throwable failure) implements LearnerActor.Internal {}

    private record Answered(LearnerActor.Command request, Object answer, Throwable failure)
            implements LearnerActor.Internal {}

    private enum WaitOver implements LearnerActor.Internal { INSTANCE }

    /** What the run asks of the node when it opens it there. */
    private record Opening(OpenRunRequest request, long startVersion, Path runDir) {}

    private final Opening opening;
    private final String run;
    private final LearnerLink link;
    private final ClusterSettings settings;
    private final ExperimentTimeouts timeouts;
    private final StashBuffer<LearnerActor.Command> waiting;
    private final TimerScheduler<LearnerActor.Command> timers;
    private final NodeListing listing;
    private ActorRef<NodeEndpoint.GetAddress> node;
    private NodeEndpoint.Address address;
    private ManagedChannel channel;
    private boolean open;
    private boolean calling;
    private long version;

    private RemoteLearner(ActorContext<LearnerActor.Command> context, StashBuffer<LearnerActor.Command> waiting,
            TimerScheduler<LearnerActor.Command> timers, Opening opening, LearnerLink link,
            ClusterSettings settings, ExperimentTimeouts timeouts) {
        super(context);
        this.waiting = waiting;
        this.timers = timers;
        this.opening = opening;
        this.run = opening.request().getRun();
        this.version = opening.startVersion();
        this.link = link;
        this.settings = settings;
        this.timeouts = timeouts;
        this.listing = new NodeListing(NodeEndpoint.LEARNER_KEY, settings.endpointTimeout());
        listing.subscribe(context, Listed::new);
        context.getLog().info("waiting up to {} for a learner node", settings.workerWaitTimeout());
        timers.startSingleTimer(WAIT_TIMER, WaitOver.INSTANCE, settings.workerWaitTimeout());
    }

    /**
     * @param run the run's name on the node (its checkpoints' directory there)
     * @param config the run's configuration; the node gets its rlhf.* settings but rlhf.cluster
     * @param sft the coordinator's SFT weights, which the node's must equal
     * @param resumeIteration the checkpoint the node resumes from, or -1 for a fresh learner
     * @param startVersion the weight version the learner starts at (0, or the checkpoint's)
     * @param runDir where the checkpoints the node writes are recorded
     * @param link told once the node holds the run, so the rollout node proxies reach it
     */
    public static Behavior<LearnerActor.Command> create(String run, Algorithm algorithm, Config config,
            WeightsSnapshot sft, int resumeIteration, long startVersion, Path runDir, LearnerLink link,
            ClusterSettings settings, ExperimentTimeouts timeouts) {
        Config runSettings = config.getConfig("rlhf").withoutPath("cluster").atKey("rlhf");
        OpenRunRequest request = OpenRunRequest.newBuilder()
                .setRun(CollectorMessages.run(run))
                .setAlgorithm(algorithm.key())
                .setConfig(runSettings.root().render(ConfigRenderOptions.concise()))
                .setSftSha256(SnapshotSafetensors.sha256(sft))
                .setResumeIteration(resumeIteration)
                .build();
        Opening opening = new Opening(request, startVersion, runDir);
        return Behaviors.setup(context -> Behaviors.withStash(STASH_CAPACITY, waiting -> Behaviors.withTimers(
                timers -> new RemoteLearner(context, waiting, timers, opening, link, settings, timeouts))));
    }

    @Override
    public Receive<LearnerActor.Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Listed.class, this::onListed)
                .onMessage(Resolved.class, this::onResolved)
                .onMessage(Unresolved.class, this::onUnresolved)
                .onMessage(Opened.class, this::onOpened)
                .onMessage(WaitOver.class, over -> onWaitOver())
                .onMessage(Answered.class, this::onAnswered)
                .onMessage(LearnerActor.Learn.class, this::onRequest)
                .onMessage(LearnerActor.UsePreferences.class, this::onRequest)
                .onMessage(LearnerActor.MeasureKl.class, this::onRequest)
                .onMessage(LearnerActor.SaveCheckpoint.class, this::onRequest)
                .onMessage(LearnerActor.Close.class, close -> Behaviors.stopped())
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    // --- finding the node and opening the run there -------------------------------------------------------------

    private Behavior<LearnerActor.Command> onListed(Listed message) {
        listing.update(message.listing());
        if (node != null && !listing.isListed(node)) {
            throw new IllegalStateException("the learner node at " + address.host() + ":" + address.port() + " ("
                    + address.node() + ") left the cluster or is unreachable, and the run's learner state with it: "
                    + "--resume continues from the last checkpoint");
        }
        if (node == null && !listing.isAsking()) {
            listing.newcomers(Set.of()).stream().findFirst()
                    .ifPresent(ref -> listing.ask(getContext(), ref, Resolved::new, Unresolved::new));
        }
        return this;
    }

    private Behavior<LearnerActor.Command> onResolved(Resolved message) {
        if (!listing.answered(message.ref()) || node != null) {
            return this;
        }
        node = message.ref();
        address = message.address();
        channel = settings.credentials().channelBuilder(address.host(), address.port())
                .maxInboundMessageSize(settings.grpcMessageBytes()).build();
        getContext().getLog().info("learner node {} at {}:{} opens run {}", address.node(), address.host(),
                address.port(), run);
        UnaryAnswer<OpenRunResponse> answer = new UnaryAnswer<>();
        stub(settings.callTimeout()).openRun(opening.request(), answer);
        getContext().pipeToSelf(answer.future(), Opened::new);
        return this;
    }

    private Behavior<LearnerActor.Command> onUnresolved(Unresolved message) {
        if (listing.answered(message.ref())) {
            listing.drop(message.ref());
            getContext().getLog().warn("learner node {} did not say where its service listens ({}); not using it",
                    message.ref().path().address(), message.cause().toString());
        }
        return this;
    }

    private Behavior<LearnerActor.Command> onOpened(Opened opened) {
        if (opened.failure() != null) {
            throw new IllegalStateException("the learner node at " + address.host() + ":" + address.port()
                    + " could not open run " + run + ": " + opened.failure().getMessage(), opened.failure());
        }
        if (opened.response().getWeightVersion() != version) {
            throw new IllegalStateException("the learner node at " + address.host() + ":" + address.port()
                    + " opened run " + run + " at weights v" + opened.response().getWeightVersion() + ", not v"
                    + version);
        }
        open = true;
        timers.cancel(WAIT_TIMER);
        link.opened(channel, run);
        getContext().getLog().info("learner node {} holds run {} at weights v{}", address.node(), run, version);
        return nextCall();
    }

    private Behavior<LearnerActor.Command> onWaitOver() {
        throw new IllegalStateException("no learner node held the run within rlhf.cluster.worker-wait-timeout ("
                + settings.workerWaitTimeout() + ")");
    }

    // --- the learner's commands ---------------------------------------------------------------------------------

    private Behavior<LearnerActor.Command> onRequest(LearnerActor.Command request) {
        if (!open || calling) {
            if (waiting.isFull()) {
                throw new IllegalStateException("the learner is " + STASH_CAPACITY + " requests behind");
            }
            waiting.stash(request);
            return this;
        }
        calling = true;
        CompletableFuture<?> answer;
        if (request instanceof LearnerActor.Learn learn) {
            UnaryAnswer<LearnResponse> call = new UnaryAnswer<>();
            stub(timeouts.learn()).learn(LearnerMessages.learn(run, learn), call);
            answer = call.future();
        } else if (request instanceof LearnerActor.MeasureKl measure) {
            UnaryAnswer<MeasureKlResponse> call = new UnaryAnswer<>();
            stub(timeouts.measureKl()).measureKl(LearnerMessages.measureKl(run, measure), call);
            answer = call.future();
        } else if (request instanceof LearnerActor.SaveCheckpoint save) {
            UnaryAnswer<SaveCheckpointResponse> call = new UnaryAnswer<>();
            stub(timeouts.checkpoint()).saveCheckpoint(LearnerMessages.saveCheckpoint(run, save.state()), call);
            answer = call.future();
        } else {
            LearnerActor.UsePreferences use = (LearnerActor.UsePreferences) request;
            UnaryAnswer<UsePreferencesResponse> call = new UnaryAnswer<>();
            stub(settings.callTimeout()).usePreferences(LearnerMessages.usePreferences(run, use.judged()), call);
            answer = call.future();
        }
        getContext().pipeToSelf(answer, (value, failure) -> new Answered(request, value, failure));
        return this;
    }

    private Behavior<LearnerActor.Command> onAnswered(Answered answered) {
        calling = false;
        LearnerActor.Command request = answered.request();
        if (request instanceof LearnerActor.Learn learn) {
            LearnerActor.Learned learned;
            try {
                learned = LearnerMessages.learned(checked(answered, "the update of iteration " + learn.iteration()),
                        learn.iteration(), version);
            } catch (RuntimeException e) {
                learn.replyTo().tell(StatusReply.error(e.getMessage()));
                throw e;
            }
            version = learned.weights().version();
            learn.replyTo().tell(StatusReply.success(learned));
        } else if (request instanceof LearnerActor.MeasureKl measure) {
            LearnerActor.KlMeasured measured;
            try {
                measured = LearnerMessages.klMeasured(checked(answered, "measuring the KL to the reference"),
                        measure.completions().size());
            } catch (RuntimeException e) {
                measure.replyTo().tell(StatusReply.error(e.getMessage()));
                throw e;
            }
            measure.replyTo().tell(StatusReply.success(measured));
        } else if (request instanceof LearnerActor.SaveCheckpoint save) {
            recordCheckpoint(save, answered);
        } else {
            checked(answered, "handing it the judged comparisons");
        }
        return nextCall();
    }

    /**
     * Records the checkpoint the node wrote. Like a local learner's, a checkpoint that fails is only answered with
     * the error: the learner's state is intact.
     */
    private void recordCheckpoint(LearnerActor.SaveCheckpoint save, Answered answered) {
        int iteration = save.state().iteration();
        if (answered.failure() != null) {
            save.replyTo().tell(StatusReply.error("checkpoint of iteration " + iteration + " on the learner node at "
                    + address.host() + ":" + address.port() + ": " + answered.failure().getMessage()));
            return;
        }
        SaveCheckpointResponse response = (SaveCheckpointResponse) answered.answer();
        try {
            Path record = new RunCheckpoint(opening.runDir()).record(iteration, response.getStateJson(),
                    response.getPath(), address.host() + ":" + address.port() + " (" + address.node() + ")");
            save.replyTo().tell(StatusReply.success(new LearnerActor.CheckpointSaved(iteration, record)));
        } catch (IOException | RuntimeException e) {
            getContext().getLog().error("recording the learner node's checkpoint of iteration {} failed", iteration,
                    e);
            save.replyTo().tell(StatusReply.error("recording the checkpoint of iteration " + iteration + ": " + e));
        }
    }

    /** The answer, or the call's failure as the learner's: it ends the run. */
    private <T> T checked(Answered answered, String what) {
        if (answered.failure() != null) {
            throw new IllegalStateException("the learner node at " + address.host() + ":" + address.port()
                    + " failed " + what + ": " + answered.failure().getMessage(), answered.failure());
        }
        @SuppressWarnings("unchecked")
        T answer = (T) answered.answer();
        return answer;
    }

    private Behavior<LearnerActor.Command> nextCall() {
        return waiting.isEmpty() || calling ? this : waiting.unstash(this, 1, message -> message);
    }

    private LearnerServiceGrpc.LearnerServiceStub stub(Duration deadline) {
        return LearnerServiceGrpc.newStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Behavior<LearnerActor.Command> onStop() {
        link.failed(new IllegalStateException("the run's learner has stopped"));
        if (channel != null) {
            channel.shutdownNow();
        }
        return this;
    }
}
