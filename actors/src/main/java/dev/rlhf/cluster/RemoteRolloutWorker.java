package dev.rlhf.cluster;

import dev.rlhf.actors.PublishedWeights;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.StashBuffer;
import org.apache.pekko.pattern.StatusReply;

/**
 * A rollout worker on another node, seen from the coordinator: speaks {@link RolloutWorker.Command} and forwards
 * each message over a gRPC channel to the node's RolloutService. A call that fails (the node died, the call timed
 * out, the node refused it) answers the caller with an error where the caller waits for one, and stops this proxy,
 * which is how the coordinator learns the worker is lost; so does an answer that fails the checks of
 * {@link RolloutMessages#rollout}. Calls go one at a time, in the order the messages came
 * (later ones wait in a stash), so weight versions load in order, as in a local worker's mailbox. The channel
 * carries the cluster's credentials ({@link ClusterCredentials}: mutual TLS, a bearer token) and is closed when the
 * proxy stops. Weights are encoded for the wire on Pekko's blocking dispatcher, once per version
 * however many proxies send them ({@link EncodedWeights}), and travel in chunks ({@link WeightsSender}); a version
 * the learner node made travels from there instead ({@link LearnerLink}), and only its answer passes here.
 */
final class RemoteRolloutWorker extends AbstractBehavior<RolloutWorker.Command> {
    /** More waiting messages than a coordinator ever sends one worker (a chunk and a weight version or two). */
    private static final int STASH_CAPACITY = 1000;

    private final StashBuffer<RolloutWorker.Command> waiting;
    private boolean calling;
    private final int id;
    private final NodeEndpoint.Address address;
    private final ManagedChannel channel;
    private final EncodedWeights weights;
    private final Optional<LearnerLink> learner;
    private final Duration callTimeout;
    private final Executor encoding;
    private final int vocabSize;
    private final int syncAttempts;
    private final int readyThreshold;

    private record Generated(RolloutWorker.Generate request, GenerateChunkResponse response, Throwable failure)
            implements RolloutWorker.Internal {}

    private record Loaded(RolloutWorker.LoadWeights request, WeightSyncStatus response, Throwable failure)
            implements RolloutWorker.Internal {}

    private RemoteRolloutWorker(ActorContext<RolloutWorker.Command> context,
            StashBuffer<RolloutWorker.Command> waiting, int id,
            NodeEndpoint.Address address, EncodedWeights weights, Optional<LearnerLink> learner,
            ClusterSettings settings, int vocabSize) {
        super(context);
        this.learner = learner;
        this.vocabSize = vocabSize;
        this.waiting = waiting;
        this.id = id;
        this.address = address;
        this.weights = weights;
        this.callTimeout = settings.callTimeout();
        this.syncAttempts = settings.weightSyncAttempts();
        this.readyThreshold = WeightsSender.readyThreshold(settings.weightChunkBytes());
        this.encoding = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
        this.channel = settings.credentials().channelBuilder(address.host(), address.port())
                .maxInboundMessageSize(settings.grpcMessageBytes())
                .build();
    }

    /**
     * @param id the coordinator's id for this worker (in its rollouts and logs)
     * @param weights the encoding of published weights, shared by every proxy
     * @param learner the learner node, which sends the versions it made itself (a remote learner's run)
     * @param vocabSize the size of the policy's vocabulary, which every generated token id must be within
     */
    static Behavior<RolloutWorker.Command> create(int id, NodeEndpoint.Address address, EncodedWeights weights,
            Optional<LearnerLink> learner, ClusterSettings settings, int vocabSize) {
        return Behaviors.setup(context -> Behaviors.withStash(STASH_CAPACITY, waiting -> new RemoteRolloutWorker(
                context, waiting, id, address, weights, learner, settings, vocabSize)));
    }

    @Override
    public Receive<RolloutWorker.Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RolloutWorker.Generate.class, this::onGenerate)
                .onMessage(RolloutWorker.LoadWeights.class, this::onLoadWeights)
                .onMessage(Generated.class, this::onGenerated)
                .onMessage(Loaded.class, this::onLoaded)
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    private Behavior<RolloutWorker.Command> onGenerate(RolloutWorker.Generate message) {
        if (calling) {
            waiting.stash(message);
            return this;
        }
        calling = true;
        UnaryAnswer<GenerateChunkResponse> answer = new UnaryAnswer<>();
        stub().generateChunk(RolloutMessages.chunkRequest(message.chunk(), message.requests()), answer);
        getContext().pipeToSelf(answer.future(), (response, failure) -> new Generated(message, response, failure));
        return this;
    }

    private Behavior<RolloutWorker.Command> onGenerated(Generated answered) {
        RolloutWorker.Generate request = answered.request();
        Throwable failure = answered.failure();
        RolloutWorker.Rollout rollout = null;
        if (failure == null) {
            try {
                rollout = RolloutMessages.rollout(answered.response(), request.chunk(), request.requests(), id,
                        vocabSize);
            } catch (IllegalArgumentException e) {
                failure = e; // a worker answering out of bounds is as lost as one that does not answer
            }
        }
        if (failure != null) {
            request.replyTo().tell(StatusReply.error("remote rollout worker " + id + " at " + address.host() + ":"
                    + address.port() + " failed on chunk " + request.chunk() + ": " + failure.getMessage()));
            return lost("chunk " + request.chunk(), failure);
        }
        request.replyTo().tell(StatusReply.success(rollout));
        return nextCall();
    }

    private Behavior<RolloutWorker.Command> onLoadWeights(RolloutWorker.LoadWeights message) {
        if (calling) {
            waiting.stash(message);
            return this;
        }
        calling = true;
        CompletableFuture<WeightSyncStatus> answered;
        if (message.weights() instanceof PublishedWeights.OnLearnerNode made) {
            answered = learner.map(node -> node.publish(made.version(), address))
                    .orElseGet(() -> CompletableFuture.failedFuture(new IllegalStateException(
                            "weights v" + made.version() + " are on a learner node, but this run has none")));
        } else {
            answered = weights.of(message.weights().inProcess(), encoding)
                    .thenCompose(chunks -> WeightsSender.sync(
                            answer -> stub().withOnReadyThreshold(readyThreshold).syncWeights(answer), chunks,
                            syncAttempts, "rollout worker " + id));
        }
        getContext().pipeToSelf(answered, (response, failure) -> new Loaded(message, response, failure));
        return this;
    }

    private Behavior<RolloutWorker.Command> onLoaded(Loaded answered) {
        if (answered.failure() != null) {
            // no error reply: the coordinator drops this worker when it sees it stop, and publishes to the others
            // (an error reply would fail the run, as a local worker's does)
            return lost("loading weights v" + answered.request().weights().version(), answered.failure());
        }
        answered.request().replyTo().tell(StatusReply.success(
                new RolloutWorker.WeightsLoaded(id, answered.response().getVersion())));
        return nextCall();
    }

    /** The call ended: starts the next waiting one, if any. */
    private Behavior<RolloutWorker.Command> nextCall() {
        calling = false;
        return waiting.isEmpty() ? this : waiting.unstash(this, 1, message -> message);
    }

    private Behavior<RolloutWorker.Command> lost(String call, Throwable failure) {
        getContext().getLog().warn("remote rollout worker {} at {}:{} ({}) failed on {}: {}; dropping it", id,
                address.host(), address.port(), address.node(), call, failure.toString());
        return Behaviors.stopped();
    }

    private RolloutServiceGrpc.RolloutServiceStub stub() {
        return RolloutServiceGrpc.newStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private Behavior<RolloutWorker.Command> onStop() {
        channel.shutdownNow();
        return this;
    }
}
