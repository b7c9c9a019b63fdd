package dev.rlhf.serve;

import dev.rlhf.store.PreferenceStore;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/** A {@link PolicyServer} on a real Netty socket on 127.0.0.1 (a free port) and one channel to it. */
final class RunningServer implements AutoCloseable {
    /**
     * Test settings: a batch of 8, a queue of 24, caps of 200 new tokens, n = 4, 64 KiB of text and 16 stop strings
     * of 256 bytes, auth off.
     */
    static final ServeSettings SETTINGS = settings(8, 24);

    /**
     * Loopback on a free port, caps of 200 new tokens, n = 4, 64 KiB of text and 16 stop strings of 256 bytes, auth
     * off, one second of shutdown grace.
     */
    static ServeSettings settings(int maxBatch, int maxQueued) {
        return settings(maxBatch, maxQueued, 1 << 16);
    }

    /** {@link #settings(int, int)} with a cap of {@code maxTextBytes} on a prompt's text and Tokenize's text. */
    static ServeSettings settings(int maxBatch, int maxQueued, int maxTextBytes) {
        return new ServeSettings("127.0.0.1", 0, maxBatch, maxQueued, 200, 4, maxTextBytes, 16, 256, 1 << 20,
                Duration.ofMinutes(2), Duration.ofSeconds(20), Duration.ofSeconds(30), "", Optional.empty(),
                Optional.empty(), Optional.empty(), Duration.ofSeconds(1), Map.of());
    }

    final PolicyServer server;
    final ManagedChannel channel;

    private RunningServer(PolicyServer server, ManagedChannel channel) {
        this.server = server;
        this.channel = channel;
    }

    static RunningServer start(ServedModel model, ServeSettings settings, Optional<PreferenceStore> store)
            throws IOException {
        return start(model, settings, store, Optional.empty());
    }

    static RunningServer start(ServedModel model, ServeSettings settings, Optional<PreferenceStore> store,
            Optional<RewardModelVersions> rewards) throws IOException {
        return start(model, settings, store, rewards, Optional.empty());
    }

    static RunningServer start(ServedModel model, ServeSettings settings, Optional<PreferenceStore> store,
            Optional<RewardModelVersions> rewards, Optional<ExperimentGrpcService> experiments) throws IOException {
        PolicyServer server =
                new PolicyServer(NettyTransport.builder(settings), model, settings, store, rewards, experiments)
                        .start();
        ManagedChannel channel =
                Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), InsecureChannelCredentials.create())
                        .build();
        return new RunningServer(server, channel);
    }

    static RunningServer start(ServedModel model) throws IOException {
        return start(model, SETTINGS, Optional.empty());
    }

    /** The services server reflection lists. */
    List<String> reflectedServices() throws Exception {
        CompletableFuture<List<String>> services = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse response) {
                        services.complete(response.getListServicesResponse().getServiceList().stream()
                                .map(ServiceResponse::getName).toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        services.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> names = services.get(5, TimeUnit.SECONDS);
        requests.onCompleted();
        return names;
    }

    /** Waits up to five seconds for {@code value} to reach 0; returns its last reading. */
    static int awaitZero(IntSupplier value) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int last = value.getAsInt();
        while (last != 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
            last = value.getAsInt();
        }
        return last;
    }

    @Override
    public void close() {
        try {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            server.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while shutting the test server down", e);
        }
    }
}
