package dev.rlhf.cluster;

import dev.rlhf.actors.PreferenceCollector;
import dev.rlhf.proto.v1.CollectResponse;
import dev.rlhf.proto.v1.JudgedPage;
import dev.rlhf.proto.v1.JudgedPair;
import dev.rlhf.proto.v1.PreferenceCollectorServiceGrpc;
import dev.rlhf.proto.v1.ReadLastSequenceResponse;
import dev.rlhf.rewardmodel.JudgedComparison;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
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
 * The preference collector role played by the preferences node ({@code rlhf node --role preferences}), seen from
 * the coordinator: it speaks {@link PreferenceCollector.Command}, so the coordinator cannot tell it from a local
 * collector. It finds the node through the Receptionist and forwards each request to the node's
 * PreferenceCollectorService under this run's name, one call at a time in arrival order (later requests wait in a
 * stash), as the local collector serves them. While no node is listed, requests wait, logged, up to {@code
 * rlhf.cluster.worker-wait-timeout}, then fail. A call that fails answers its caller with the error (the
 * coordinator then ends the run, naming the collector; {@code --resume} continues once a node is back, since the
 * store keeps every acknowledged judgment), and the node is not used again until it registers anew.
 */
public final class RemotePreferenceCollector extends AbstractBehavior<PreferenceCollector.Command> {
    private static final int STASH_CAPACITY = 1024;
    private static final Object WAIT_TIMER = "no-preferences-node";

    private record Listed(Receptionist.Listing listing) implements PreferenceCollector.Internal {}

    private record Resolved(ActorRef<NodeEndpoint.GetAddress> ref, NodeEndpoint.Address address)
            implements PreferenceCollector.Internal {}

    private record Unresolved(ActorRef<NodeEndpoint.GetAddress> ref, Throwable cause)
            implements PreferenceCollector.Internal {}

    private record Answered(PreferenceCollector.Command request, Object answer, Throwable failure)
            implements PreferenceCollector.Internal {}

    private enum WaitOver implements PreferenceCollector.Internal { INSTANCE }

    private final String run;
    private final ClusterSettings settings;
    private final StashBuffer<PreferenceCollector.Command> waiting;
    private final TimerScheduler<PreferenceCollector.Command> timers;
    private ActorRef<NodeEndpoint.GetAddress> node;
    private NodeEndpoint.Address address;
    private ManagedChannel channel;
    private final NodeListing listing;
    private boolean calling;

    private RemotePreferenceCollector(ActorContext<PreferenceCollector.Command> context,
            StashBuffer<PreferenceCollector.Command> waiting, TimerScheduler<PreferenceCollector.Command> timers,
            String run, ClusterSettings settings) {
        super(context);
        this.waiting = waiting;
        this.timers = timers;
        this.run = CollectorMessages.run(run);
        this.settings = settings;
        this.listing = new NodeListing(NodeEndpoint.PREFERENCES_KEY, settings.endpointTimeout());
        listing.subscribe(context, Listed::new);
    }

    /** @param run this run's name on the node (its store's directory there) */
    public static Behavior<PreferenceCollector.Command> create(String run, ClusterSettings settings) {
        return Behaviors.setup(context -> Behaviors.withStash(STASH_CAPACITY, waiting -> Behaviors.withTimers(
                timers -> new RemotePreferenceCollector(context, waiting, timers, run, settings))));
    }

    @Override
    public Receive<PreferenceCollector.Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(PreferenceCollector.Collect.class, this::onRequest)
                .onMessage(PreferenceCollector.ReadJudged.class, this::onRequest)
                .onMessage(PreferenceCollector.ReadLastSequence.class, this::onRequest)
                .onMessage(Answered.class, this::onAnswered)
                .onMessage(Listed.class, this::onListed)
                .onMessage(Resolved.class, this::onResolved)
                .onMessage(Unresolved.class, this::onUnresolved)
                .onMessage(WaitOver.class, over -> onWaitOver())
                .onSignal(PostStop.class, signal -> onStop())
                .build();
    }

    private Behavior<PreferenceCollector.Command> onRequest(PreferenceCollector.Command request) {
        if (calling || channel == null) {
            if (waiting.isFull()) {
                fail(request, "collector busy: " + STASH_CAPACITY + " requests already waiting");
            } else {
                waiting.stash(request);
                awaitNode();
            }
            return this;
        }
        calling = true;
        PreferenceCollectorServiceGrpc.PreferenceCollectorServiceStub stub = PreferenceCollectorServiceGrpc
                .newStub(channel).withDeadlineAfter(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
        CompletableFuture<?> answer;
        if (request instanceof PreferenceCollector.Collect collect) {
            UnaryAnswer<CollectResponse> call = new UnaryAnswer<>();
            stub.collect(CollectorMessages.collect(run, collect), call);
            answer = call.future();
        } else if (request instanceof PreferenceCollector.ReadJudged read) {
            Pages pages = new Pages(read.afterSequence(), read.throughSequence());
            stub.readJudged(CollectorMessages.readJudged(run, read), pages);
            answer = pages.judged;
        } else {
            UnaryAnswer<ReadLastSequenceResponse> call = new UnaryAnswer<>();
            stub.readLastSequence(CollectorMessages.readLastSequence(run), call);
            answer = call.future();
        }
        getContext().pipeToSelf(answer, (value, failure) -> new Answered(request, value, failure));
        return this;
    }

    private Behavior<PreferenceCollector.Command> onAnswered(Answered answered) {
        calling = false;
        PreferenceCollector.Command request = answered.request();
        if (answered.failure() != null) {
            getContext().getLog().warn("preferences node {} failed: {}", address, answered.failure().toString());
            fail(request, "preferences node at " + address.host() + ":" + address.port() + " failed: "
                    + answered.failure().getMessage());
            drop();
        } else if (request instanceof PreferenceCollector.Collect collect) {
            CollectResponse response = (CollectResponse) answered.answer();
            collect.replyTo().tell(StatusReply.success(new PreferenceCollector.Collected(response.getNewJudgments(),
                    response.getLastSequence())));
        } else if (request instanceof PreferenceCollector.ReadJudged read) {
            read.replyTo().tell(StatusReply.success((PreferenceCollector.Judged) answered.answer()));
        } else if (request instanceof PreferenceCollector.ReadLastSequence read) {
            read.replyTo().tell(StatusReply.success(new PreferenceCollector.LastSequence(
                    ((ReadLastSequenceResponse) answered.answer()).getSequence())));
        }
        return waiting.isEmpty() || channel == null ? this : waiting.unstash(this, 1, message -> message);
    }

    private Behavior<PreferenceCollector.Command> onListed(Listed message) {
        listing.update(message.listing());
        if (node != null && !listing.isListed(node)) {
            getContext().getLog().warn("preferences node {} left the cluster or is unreachable", address);
            drop();
        }
        if (node == null && !listing.isAsking()) {
            listing.newcomers(Set.of()).stream().findFirst()
                    .ifPresent(ref -> listing.ask(getContext(), ref, Resolved::new, Unresolved::new));
        }
        return this;
    }

    private Behavior<PreferenceCollector.Command> onResolved(Resolved message) {
        if (!listing.answered(message.ref())) {
            return this; // it left while it was being asked
        }
        node = message.ref();
        address = message.address();
        channel = settings.credentials().channelBuilder(address.host(), address.port())
                .maxInboundMessageSize(settings.grpcMessageBytes()).build();
        timers.cancel(WAIT_TIMER);
        getContext().getLog().info("preferences node {} at {}:{} holds run {}'s store", address.node(),
                address.host(), address.port(), run);
        return waiting.isEmpty() || calling ? this : waiting.unstash(this, 1, request -> request);
    }

    private Behavior<PreferenceCollector.Command> onUnresolved(Unresolved message) {
        if (!listing.answered(message.ref())) {
            return this;
        }
        listing.drop(message.ref());
        getContext().getLog().warn("preferences node {} did not say where its service listens ({}); not using it",
                message.ref().path().address(), message.cause().toString());
        return this;
    }

    private void awaitNode() {
        if (channel == null && !timers.isTimerActive(WAIT_TIMER)) {
            getContext().getLog().warn("waiting up to {} for a preferences node", settings.workerWaitTimeout());
            timers.startSingleTimer(WAIT_TIMER, WaitOver.INSTANCE, settings.workerWaitTimeout());
        }
    }

    private Behavior<PreferenceCollector.Command> onWaitOver() {
        if (channel != null) {
            return this;
        }
        String why = "no preferences node within rlhf.cluster.worker-wait-timeout (" + settings.workerWaitTimeout()
                + ")";
        waiting.forEach(request -> fail(request, why));
        waiting.clear();
        return this;
    }

    private void drop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        listing.drop(node);
        node = null;
        channel = null;
    }

    private static void fail(PreferenceCollector.Command request, String why) {
        if (request instanceof PreferenceCollector.Collect collect) {
            collect.replyTo().tell(StatusReply.error("collecting batch " + collect.batchId() + ": " + why));
        } else if (request instanceof PreferenceCollector.ReadJudged read) {
            read.replyTo().tell(StatusReply.error("reading judgments through #" + read.throughSequence() + ": "
                    + why));
        } else if (request instanceof PreferenceCollector.ReadLastSequence read) {
            read.replyTo().tell(StatusReply.error("reading the last judgment sequence: " + why));
        }
    }

    private Behavior<PreferenceCollector.Command> onStop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        return this;
    }

    /** A ReadJudged stream's pages gathered, each judgment checked, into the collector's answer. */
    private static final class Pages implements StreamObserver<JudgedPage> {
        final CompletableFuture<PreferenceCollector.Judged> judged = new CompletableFuture<>();
        private final List<JudgedComparison> comparisons = new ArrayList<>();
        private final long through;
        private long last;

        Pages(long after, long through) {
            this.last = after;
            this.through = through;
        }

        @Override
        public void onNext(JudgedPage page) {
            try {
                for (JudgedPair pair : page.getComparisonsList()) {
                    JudgedComparison comparison = CollectorMessages.judged(pair, last, through,
                            "comparisons[" + comparisons.size() + "]");
                    comparisons.add(comparison);
                    last = comparison.sequence();
                }
            } catch (IllegalArgumentException e) {
                judged.completeExceptionally(e);
            }
        }

        @Override
        public void onError(Throwable t) {
            judged.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            judged.complete(new PreferenceCollector.Judged(List.copyOf(comparisons), last));
        }
    }
}
