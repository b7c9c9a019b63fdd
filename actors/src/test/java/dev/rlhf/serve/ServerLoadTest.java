package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDManager;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many concurrent clients share the running batch without errors and without leaking native arrays. */
class ServerLoadTest {
    private static final int CLIENTS = 32;
    private static final int REQUESTS_PER_CLIENT = 4;

    @TempDir Path dir;

    @Test
    void thirtyTwoConcurrentClientsGetEveryCompletionAndNativeArraysStayFlat() throws Exception {
        try (NDManager manager = NDManager.newBaseManager();
                ServedModel model = TinyServedModel.create(manager, dir);
                RunningServer running = RunningServer.start(model, RunningServer.settings(16, 64),
                        Optional.empty())) {
            ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
            try {
                BaseNDManager weights = (BaseNDManager) model.model().weights().manager();
                PolicyServiceGrpc.PolicyServiceBlockingStub stub = PolicyServiceGrpc.newBlockingStub(running.channel);
                runClients(clients, stub, 1);
                int arraysBefore = weights.getManagedArrays().size();

                List<Integer> tokens = runClients(clients, stub, REQUESTS_PER_CLIENT);

                assertEquals(0, RunningServer.awaitZero(running.server::inFlightSequences), "sequences in flight");
                assertEquals(CLIENTS * REQUESTS_PER_CLIENT, tokens.size(), "answered requests");
                tokens.forEach(t -> assertEquals(16, t, "tokens per completion"));
                assertEquals(arraysBefore, weights.getManagedArrays().size(),
                        "native arrays under the model's manager after " + tokens.size() + " requests");
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /** Each client sends {@code requests} Generate calls one after another; returns the completion lengths. */
    private static List<Integer> runClients(ExecutorService clients, PolicyServiceGrpc.PolicyServiceBlockingStub stub,
            int requests) throws Exception {
        List<Future<List<Integer>>> futures = new ArrayList<>();
        for (int c = 0; c < CLIENTS; c++) {
            int client = c;
            futures.add(clients.submit(() -> {
                List<Integer> lengths = new ArrayList<>();
                for (int r = 0; r < requests; r++) {
                    lengths.add(stub.generate(GenerateRequest.newBuilder()
                            .addPrompts(PromptInput.newBuilder().setText("Review " + client + " of " + r + ":"))
                            .setMaxNewTokens(16).setSeed(client * 100L + r).build())
                            .getCompletions(0).getTokenIdsCount());
                }
                return lengths;
            }));
        }
        List<Integer> all = new ArrayList<>();
        for (Future<List<Integer>> future : futures) {
            all.addAll(future.get());
        }
        return all;
    }
}
