package dev.rlhf.cluster;

import dev.rlhf.actors.RewardScorerActor;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.RewardScorerServiceGrpc;
import dev.rlhf.proto.v1.ScoreChunkResponse;
import dev.rlhf.proto.v1.UseRewardVersionRequest;
import dev.rlhf.proto.v1.UseRewardVersionResponse;
import io.grpc.ManagedChannel;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.pattern.StatusReply;

/**
 * The reward scorer role played by reward nodes ({@code rlhf node --role reward}), seen from the coordinator: it
 * speaks {@link RewardScorerActor.Command}, so the coordinator cannot tell it from a local scorer. It finds the nodes
 * through the Receptionist, syncs every reward-model version it is given to each of them (weight sync, then
 * UseVersion with the coordinator's sizes, normaliser and batch size), acknowledges a {@code UseVersion} once a node
 * scores with it, and sends each chunk to score to the node using the current version with the fewest calls in
 * flight. A node that fails a call, answers out of bounds, leaves or becomes unreachable is dropped and its chunks
 * go to another node; a node that joins gets the current version and then work. While no node uses the current
 * version the work waits, logged, up to {@code rlhf.cluster.worker-wait-timeout}, and then fails.
 */
public final class RemoteRewardScorers extends AbstractBehavior<RewardScorerActor.Command> {
    private static final Object WAIT_TIMER = "no-reward-node";

    private record Listed(Receptionist.Listing listing) implements RewardScorerActor.Internal {}

    private record Resolved(ActorRef<NodeEndpoint.GetAddress> ref, NodeEndpoint.Address address)
            implements RewardScorerActor.Internal {}

    private record Unresolved(ActorRef<NodeEndpoint.GetAddress> ref, Throwable cause)
            implements RewardScorerActor.Internal {}

    private record Encoded(RewardScorerActor.UseVersion request, Target target, Throwable failure)
            implements RewardScorerActor.Internal {}

    private record Brought(ActorRef<NodeEndpoint.GetAddress> ref, int version, Throwable failure)
            implements RewardScorerActor.Internal {}

    private record Answered(ActorRef<NodeEndpoint.GetAddress> ref, RewardScorerActor.Score request, int version,
            ScoreChunkResponse response, Throwable failure) implements RewardScorerActor.Internal {}

    private enum WaitOver implements RewardScorerActor.Internal { INSTANCE }

    /** A reward-model version as it travels to the nodes. */
    private record Target(int version, VersionChunks chunks, UseRewardVersionRequest use) {}

    /** One reward node and what it is doing. */
    private static final class Node {
        final int id;
        final NodeEndpoint.Address address;
        final ManagedChannel channel;
        int usesVersion = -1;
        boolean bringing;
        int calls;

        Node(int id, NodeEndpoint.Address address, ManagedChannel channel) {
            this.id = id;
            this.address = address;
            this.channel = channel;
        }

        @Override
        public String toString() {
            return "reward node " + id + " at " + address.host() + ":" + address.port() + " (" + address.node() + ")";
        }
    }

    private final ClusterSettings settings;
    private final TimerScheduler<RewardScorerActor.Command> timers;
    private final Executor encoding;
    private final Map<ActorRef<NodeEndpoint.GetAddress>, Node> nodes = new HashMap<>();
    private final NodeListing listing;
    private int nextId;
    private Target current;
    private RewardScorerActor.UseVersion unacknowledged;
    private final Deque<RewardScorerActor.Score> waiting = new ArrayDeque<>();

    private RemoteRewardScorers(ActorContext<RewardScorerActor.Command> context,
            TimerScheduler<RewardScorerActor.Command> timers, ClusterSettings settings) {
        super(context);
        this.settings = settings;
        this.timers = timers;
        this.encoding = context.getSystem().dispatchers().lookup(DispatcherSelector.blocking());
        this.listing = new NodeListing(NodeEndpoint.REWARD_KEY, settings.endpointTimeout());
        listing.subscribe(context, Listed::new);
    }

    public static Behavior<RewardScorerActor.Command> create(ClusterSettings settings) {
        return Behaviors.setup(context -> Behaviors.withTimers(
                timers -> new RemoteRewardScorers(context, timers, settings)));
    }

    @Override
    public Receive<RewardScorerActor.Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(RewardScorerActor.UseVersion.class, this::onUseVersion)
                .onMessage(RewardScorerActor.Score.class, this::onScore)
                .onMessage(Encoded.class, this::onEncoded)
                .onMessage(Brought.class, this::onBrought)
                .onMessage(Answered.class, this::onAnswered)
                .onMessage(Listed.class, this::onListed)
                .onMessage(Resolved.class, this::onResolved)
                .onMessage(Unresolved.class, this::onUnresolved)
                .onMessage(WaitOver.class, over -> onWaitOver())
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    /**
     * Encodes the version's weights off this actor's thread; the caller keeps the model open until it is
     * acknowledged, which comes only after the encoding.
     */
    private Behavior<RewardScorerActor.Command> onUseVersion(RewardScorerActor.UseVersion message) {
        int chunkBytes = settings.weightChunkBytes();
        CompletableFuture<Target> target = CompletableFuture.supplyAsync(() -> {
            WeightsSnapshot snapshot = WeightsSnapshot.of(message.scorer().model().weights(), message.version());
            VersionChunks chunks = VersionChunks.of(message.version(), SnapshotSafetensors.encode(snapshot),
                    chunkBytes);
            return new Target(message.version(), chunks,
                    RewardRequestReader.useVersion(message.version(), chunks.sha256(), message.scorer()));
        }, encoding);
        getContext().pipeToSelf(target, (encoded, failure) -> new Encoded(message, encoded, failure));
        return this;
    }

    private Behavior<RewardScorerActor.Command> onEncoded(Encoded encoded) {
        if (encoded.failure() != null) {
            encoded.request().replyTo().tell(StatusReply.error("encoding reward model v"
                    + encoded.request().version() + " for the reward nodes: " + encoded.failure()));
            return this;
        }
        current = encoded.target();
        unacknowledged = encoded.request();
        nodes.forEach((ref, node) -> bring(ref, node));
        serve();
        return this;
    }

    private Behavior<RewardScorerActor.Command> onScore(RewardScorerActor.Score message) {
        waiting.addLast(message);
        serve();
        return this;
    }

    /** Syncs the current version to {@code node} and has it score with it. */
    private void bring(ActorRef<NodeEndpoint.GetAddress> ref, Node node) {
        if (node.bringing || current == null || node.usesVersion == current.version()) {
            return;
        }
        node.bringing = true;
        Target target = current;
        RewardScorerServiceGrpc.RewardScorerServiceStub stub = stub(node);
        CompletableFuture<UseRewardVersionResponse> used = WeightsSender.sync(
                        answer -> stub.withOnReadyThreshold(WeightsSender.readyThreshold(settings.weightChunkBytes()))
                                .syncWeights(answer),
                        target.chunks(), settings.weightSyncAttempts(), node.toString())
                .thenCompose(status -> {
                    UnaryAnswer<UseRewardVersionResponse> answer = new UnaryAnswer<>();
                    stub.useVersion(target.use(), answer);
                    return answer.future();
                });
        getContext().pipeToSelf(used, (response, failure) -> new Brought(ref, target.version(), failure));
    }

    private Behavior<RewardScorerActor.Command> onBrought(Brought brought) {
        Node node = nodes.get(brought.ref());
        if (node == null) {
            return this; // dropped meanwhile
        }
        node.bringing = false;
        if (brought.failure() != null) {
            drop(brought.ref(), "bringing it reward model v" + brought.version(), brought.failure());
            serve();
            return this;
        }
        node.usesVersion = brought.version();
        getContext().getLog().info("{} scores with reward model v{}", node, brought.version());
        bring(brought.ref(), node); // a newer version may have come meanwhile
        serve();
        return this;
    }

    /** Acknowledges the current version once a node uses it, and hands waiting chunks to the ready nodes. */
    private void serve() {
        boolean ready = nodes.values().stream().anyMatch(this::ready);
        if (ready && unacknowledged != null) {
            unacknowledged.replyTo().tell(StatusReply.success(
                    new RewardScorerActor.VersionInUse(unacknowledged.version())));
            unacknowledged = null;
        }
        while (ready && !waiting.isEmpty()) {
            Map.Entry<ActorRef<NodeEndpoint.GetAddress>, Node> least = nodes.entrySet().stream()
                    .filter(entry -> ready(entry.getValue()))
                    .min(Comparator.comparingInt((Map.Entry<ActorRef<NodeEndpoint.GetAddress>, Node> e) ->
                            e.getValue().calls).thenComparingInt(e -> e.getValue().id))
                    .orElseThrow();
            score(least.getKey(), least.getValue(), waiting.removeFirst());
        }
        boolean coming = nodes.values().stream().anyMatch(node -> node.bringing); // the answer calls serve again
        if (ready || coming) {
            timers.cancel(WAIT_TIMER);
        } else if ((unacknowledged != null || !waiting.isEmpty()) && !timers.isTimerActive(WAIT_TIMER)) {
            getContext().getLog().warn("waiting up to {} for a reward node to score with reward model v{} ({} "
                    + "nodes known)", settings.workerWaitTimeout(), current == null ? "?" : current.version(),
                    nodes.size());
            timers.startSingleTimer(WAIT_TIMER, WaitOver.INSTANCE, settings.workerWaitTimeout());
        }
    }

    private boolean ready(Node node) {
        return current != null && node.usesVersion == current.version();
    }

    private void score(ActorRef<NodeEndpoint.GetAddress> ref, Node node, RewardScorerActor.Score message) {
        node.calls++;
        int version = current.version();
        UnaryAnswer<ScoreChunkResponse> answer = new UnaryAnswer<>();
        stub(node).scoreChunk(RewardRequestReader.scoreChunk(message.chunk(), version, message.pairs()), answer);
        getContext().pipeToSelf(answer.future(),
                (response, failure) -> new Answered(ref, message, version, response, failure));
    }

    private Behavior<RewardScorerActor.Command> onAnswered(Answered answered) {
        Node node = nodes.get(answered.ref());
        if (node != null) {
            node.calls--;
        }
        Throwable failure = answered.failure();
        if (failure == null) {
            Optional<String> wrong = outOfBounds(answered);
            if (wrong.isPresent()) {
                failure = new IllegalArgumentException(wrong.get());
            }
        }
        if (failure != null) {
            if (node != null) {
                drop(answered.ref(), "chunk " + answered.request().chunk(), failure);
            }
            waiting.addFirst(answered.request()); // scored again, by another node
            serve();
            return this;
        }
        ScoreChunkResponse response = answered.response();
        float[] scores = new float[response.getScoresCount()];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = response.getScores(i);
        }
        answered.request().replyTo().tell(StatusReply.success(new RewardScorerActor.Scored(
                answered.request().chunk(), response.getRewardModelVersion(), scores, response.getSeconds())));
        return this;
    }

    /** What is wrong with a node's answer, if anything: it is checked as any client's would be. */
    private static Optional<String> outOfBounds(Answered answered) {
        ScoreChunkResponse response = answered.response();
        int pairs = answered.request().pairs().size();
        if (response.getChunk() != answered.request().chunk()) {
            return Optional.of("chunk is " + response.getChunk() + ", not " + answered.request().chunk());
        }
        if (response.getRewardModelVersion() != answered.version()) {
            return Optional.of("reward_model_version is " + response.getRewardModelVersion() + ", not "
                    + answered.version());
        }
        if (response.getScoresCount() != pairs) {
            return Optional.of("scores has " + response.getScoresCount() + " scores for " + pairs + " pairs");
        }
        for (int i = 0; i < pairs; i++) {
            if (!Float.isFinite(response.getScores(i))) {
                return Optional.of("scores[" + i + "] = " + response.getScores(i) + " is not finite");
            }
        }
        return Optional.empty();
    }

    private Behavior<RewardScorerActor.Command> onWaitOver() {
        if (nodes.values().stream().anyMatch(this::ready)) {
            return this;
        }
        String why = "no reward node scored with reward model v" + (current == null ? "?" : current.version())
                + " within rlhf.cluster.worker-wait-timeout (" + settings.workerWaitTimeout() + "; " + nodes.size()
                + " nodes known)";
        if (unacknowledged != null) {
            unacknowledged.replyTo().tell(StatusReply.error(why));
            unacknowledged = null;
        }
        while (!waiting.isEmpty()) {
            waiting.removeFirst().replyTo().tell(StatusReply.error(why));
        }
        return this;
    }

    private Behavior<RewardScorerActor.Command> onListed(Listed message) {
        listing.update(message.listing());
        for (ActorRef<NodeEndpoint.GetAddress> ref : listing.newcomers(nodes.keySet())) {
            listing.ask(getContext(), ref, Resolved::new, Unresolved::new);
        }
        for (ActorRef<NodeEndpoint.GetAddress> ref : Set.copyOf(nodes.keySet())) {
            if (!listing.isListed(ref)) {
                drop(ref, "its membership", new IllegalStateException("it left the cluster or is unreachable"));
            }
        }
        serve();
        return this;
    }

    private Behavior<RewardScorerActor.Command> onResolved(Resolved message) {
        if (!listing.answered(message.ref())) {
            return this; // it left while it was being asked
        }
        NodeEndpoint.Address address = message.address();
        Node node = new Node(nextId++, address, settings.credentials().channelBuilder(address.host(), address.port())
                .maxInboundMessageSize(settings.grpcMessageBytes())
                .build());
        nodes.put(message.ref(), node);
        getContext().getLog().info("{} joined", node);
        bring(message.ref(), node);
        return this;
    }

    private Behavior<RewardScorerActor.Command> onUnresolved(Unresolved message) {
        if (listing.answered(message.ref())) {
            getContext().getLog().warn("reward node {} did not say where its RewardScorerService listens ({}); "
                    + "not using it", message.ref().path().address(), message.cause().toString());
            listing.drop(message.ref());
        }
        return this;
    }

    /** Stops using a node: its calls in flight fail, and their chunks go to another node. */
    private void drop(ActorRef<NodeEndpoint.GetAddress> ref, String call, Throwable failure) {
        Node node = nodes.remove(ref);
        listing.drop(ref);
        getContext().getLog().warn("{} failed on {}: {}; dropping it", node, call, failure.toString());
        node.channel.shutdownNow();
    }

    private RewardScorerServiceGrpc.RewardScorerServiceStub stub(Node node) {
        return RewardScorerServiceGrpc.newStub(node.channel)
                .withDeadlineAfter(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }

    private Behavior<RewardScorerActor.Command> onStop() {
        nodes.values().forEach(node -> node.channel.shutdownNow());
        return this;
    }
}
