package dev.rlhf.serve;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bench.BenchShape;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.TokenIds;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Serving throughput and latency: a {@link PolicyServer} with random weights on a loopback socket, driven by
 * closed-loop clients (each sends its next Generate call when the previous one answers) at several concurrency
 * levels. Prompts are random token ids, so no tokenizer is needed; the model has no EOS, so every completion has
 * exactly the shape's new tokens.
 */
public final class ServeBenchmark {
    private ServeBenchmark() {}

    /**
     * Runs every concurrency level in turn: one untimed round of one call per client, then {@code max(16, 4c)}
     * timed calls spread over the {@code c} clients.
     */
    public static Map<String, Object> run(BenchShape shape, int[] concurrencies)
            throws IOException, InterruptedException, ExecutionException {
        int maxConcurrency = Arrays.stream(concurrencies).max().orElse(1);
        ServeSettings settings = new ServeSettings("127.0.0.1", 0, maxConcurrency, 4 * maxConcurrency,
                shape.newTokens(), 1, 1 << 16, 16, 256, 1 << 20, Duration.ofMinutes(2), Duration.ofSeconds(20),
                Duration.ofSeconds(30), "", Optional.empty(), Optional.empty(), Optional.empty(),
                Duration.ofSeconds(5), Map.of());
        List<Map<String, Object>> results = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(maxConcurrency);
        try (NDManager manager = NDManager.newBaseManager();
                ServedModel model = new ServedModel(new GptModel(GptWeights.random(shape.modelConfig(), false,
                        manager, 1)), Optional.empty(), "random-weights:seed=1", 1)) {
            PolicyServer server = new PolicyServer(NettyTransport.builder(settings), model, settings,
                    Optional.empty(), Optional.empty(), Optional.empty()).start();
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(),
                    InsecureChannelCredentials.create()).build();
            try {
                PolicyServiceGrpc.PolicyServiceBlockingStub stub = PolicyServiceGrpc.newBlockingStub(channel);
                SplittableRandom random = new SplittableRandom(7);
                for (int concurrency : concurrencies) {
                    drive(clients, stub, shape, random, concurrency, 1);
                    int perClient = Math.max(16, 4 * concurrency) / concurrency;
                    long start = System.nanoTime();
                    double[] latenciesMs = drive(clients, stub, shape, random, concurrency, perClient);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    Arrays.sort(latenciesMs);
                    Map<String, Object> result = new LinkedHashMap<>();
                    result.put("concurrency", concurrency);
                    result.put("requests", latenciesMs.length);
                    result.put("requests_per_s", latenciesMs.length / seconds);
                    result.put("tokens_per_s", (double) latenciesMs.length * shape.newTokens() / seconds);
                    result.put("p50_ms", percentile(latenciesMs, 0.50));
                    result.put("p99_ms", percentile(latenciesMs, 0.99));
                    results.add(result);
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                server.stop();
            }
        } finally {
            clients.shutdownNow();
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("benchmark", "serve");
        out.put("config", shape.asMap());
        out.put("threads", Runtime.getRuntime().availableProcessors());
        out.put("results", results);
        return out;
    }

    /** {@code concurrency} clients each make {@code perClient} calls in a row; returns every call's latency. */
    private static double[] drive(ExecutorService clients, PolicyServiceGrpc.PolicyServiceBlockingStub stub,
            BenchShape shape, SplittableRandom random, int concurrency, int perClient)
            throws InterruptedException, ExecutionException {
        List<Future<double[]>> futures = new ArrayList<>();
        for (int c = 0; c < concurrency; c++) {
            SplittableRandom own = random.split();
            futures.add(clients.submit(() -> {
                double[] latencies = new double[perClient];
                for (int i = 0; i < perClient; i++) {
                    GenerateRequest request = request(shape, own);
                    long start = System.nanoTime();
                    stub.generate(request);
                    latencies[i] = (System.nanoTime() - start) / 1e6;
                }
                return latencies;
            }));
        }
        List<Double> all = new ArrayList<>();
        for (Future<double[]> future : futures) {
            Arrays.stream(future.get()).forEach(all::add);
        }
        return all.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static GenerateRequest request(BenchShape shape, SplittableRandom random) {
        TokenIds.Builder prompt = TokenIds.newBuilder();
        random.ints(shape.promptLength(), 0, shape.vocab()).forEach(prompt::addIds);
        return GenerateRequest.newBuilder()
                .addPrompts(PromptInput.newBuilder().setTokenIds(prompt))
                .setMaxNewTokens(shape.newTokens())
                .setTemperature(1f)
                .setSeed(random.nextLong())
                .build();
    }

    /** Nearest-rank percentile of sorted values. */
    private static double percentile(double[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
