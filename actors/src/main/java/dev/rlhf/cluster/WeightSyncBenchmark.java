package dev.rlhf.cluster;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bench.BenchShape;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code rlhf bench sync}: what it costs to publish one policy weight version to a node over gRPC on loopback, at a
 * given model shape. Each sync takes the learner's tensors out ({@link WeightsSnapshot}), encodes them once
 * (safetensors, chunks, a SHA-256 per chunk and per version) and sends them through {@link WeightsSender} to a
 * node-side service that gathers and checks them ({@link WeightsAssembly}), decodes them and copies them into its
 * own model: everything a rollout worker node does but the actor hop.
 */
public final class WeightSyncBenchmark {
    private static final int SHA256_BYTES = 32;

    private WeightSyncBenchmark() {}

    /**
     * @param syncs timed versions, after one untimed
     * @param chunkBytes rlhf.cluster.weight-chunk-bytes
     * @return the JSON fields, in order
     */
    public static Map<String, Object> run(BenchShape shape, int syncs, int chunkBytes)
            throws IOException, InterruptedException {
        if (syncs < 1) {
            throw new IllegalArgumentException("--syncs must be at least 1 but was " + syncs);
        }
        GptConfig config = shape.modelConfig();
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights learner = GptWeights.random(config, false, manager, 1);
                GptWeights node = GptWeights.random(config, false, manager, 2)) {
            ChunkRequestReader reader = new ChunkRequestReader(config, 1 << 20);
            WeightsAssembly assembly = new WeightsAssembly(Integer.MAX_VALUE);
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                            InsecureServerCredentials.create())
                    .maxInboundMessageSize(chunkBytes + (4 << 20))
                    .addService(new RolloutServiceGrpc.RolloutServiceImplBase() {
                        @Override
                        public StreamObserver<WeightChunk> syncWeights(StreamObserver<WeightSyncStatus> observer) {
                            return new WeightSyncCall(assembly, (version, file) -> {
                                reader.weights(version, file).loadInto(node);
                                return CompletableFuture.completedFuture(null);
                            }, observer);
                        }
                    })
                    .build().start();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                    .maxInboundMessageSize(chunkBytes + (4 << 20)).build();
            try {
                RolloutServiceGrpc.RolloutServiceStub stub = RolloutServiceGrpc.newStub(channel)
                        .withOnReadyThreshold(WeightsSender.readyThreshold(chunkBytes));
                double[] snapshotSeconds = new double[syncs];
                double[] encodeSeconds = new double[syncs];
                double[] syncSeconds = new double[syncs];
                VersionChunks chunks = null;
                for (int i = 0; i <= syncs; i++) { // version 0 warms up
                    long start = System.nanoTime();
                    WeightsSnapshot snapshot = WeightsSnapshot.of(learner, i);
                    long taken = System.nanoTime();
                    chunks = VersionChunks.of(i, SnapshotSafetensors.encode(snapshot), chunkBytes);
                    long encoded = System.nanoTime();
                    WeightsSender.sync(stub::syncWeights, chunks, 1, "bench node").get(10, TimeUnit.MINUTES);
                    long synced = System.nanoTime();
                    if (i > 0) {
                        snapshotSeconds[i - 1] = (taken - start) / 1e9;
                        encodeSeconds[i - 1] = (encoded - taken) / 1e9;
                        syncSeconds[i - 1] = (synced - encoded) / 1e9;
                    }
                }
                Map<String, float[]> sent = WeightsSnapshot.of(learner, syncs).tensors();
                boolean identical = WeightsSnapshot.of(node, syncs).tensors().entrySet().stream()
                        .allMatch(e -> Arrays.equals(e.getValue(), sent.get(e.getKey())));
                long bytes = chunks.totalBytes();
                long wireBytes = chunks.chunks().stream().mapToLong(WeightChunk::getSerializedSize).sum();
                Map<String, Object> out = new LinkedHashMap<>(shape.asMap());
                out.put("parameters", learner.tensors().values().stream().mapToLong(a -> a.size()).sum());
                out.put("syncs", syncs);
                out.put("file_bytes", bytes);
                out.put("wire_bytes", wireBytes);
                out.put("chunk_bytes", chunkBytes);
                out.put("chunks", chunks.chunks().size());
                out.put("snapshot_seconds", median(snapshotSeconds));
                out.put("encode_seconds", median(encodeSeconds));
                out.put("sync_seconds", median(syncSeconds));
                out.put("seconds_per_version", median(snapshotSeconds) + median(encodeSeconds) + median(syncSeconds));
                out.put("sync_mb_per_s", bytes / 1e6 / median(syncSeconds));
                out.put("digest_bytes_per_chunk", 2 * SHA256_BYTES);
                out.put("bit_identical", identical);
                return out;
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("a sync failed: " + e.getMessage(), e);
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
