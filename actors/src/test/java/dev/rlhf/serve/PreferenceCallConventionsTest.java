package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.ExportFormat;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.store.StoreCorruption;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** PreferenceService's call conventions over loopback: Export under client flow control, INTERNAL without paths. */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PreferenceCallConventionsTest {
    private static final int JUDGMENTS = 200;
    private static final int CANDIDATE_CHARS = 4096;
    private static final int CLIENT_WINDOW = 64 * 1024;

    @TempDir Path dir;

    private PreferenceStore openStore() {
        return PreferenceStore.open(new PreferenceStoreSettings(dir.resolve("db"), 1, 256, 3, 64, 4096,
                Duration.ofMinutes(30)));
    }

    private static void addJudgedTasks(PreferenceStore store, int count) {
        store.addPrompt(Prompt.newBuilder().setPromptId("p").setText("Review the cafe.").build()).join();
        List<CompletableFuture<?>> pending = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            pending.add(store.addTask(ComparisonTask.newBuilder().setTaskId("t" + i).setPromptId("p")
                    .addCandidates(Candidate.newBuilder().setText(i + "a".repeat(CANDIDATE_CHARS)))
                    .addCandidates(Candidate.newBuilder().setText(i + "b".repeat(CANDIDATE_CHARS)))
                    .build()));
            pending.add(store.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId("j" + i)
                    .setTaskId("t" + i).setAnnotatorId("ann").setChoice(Choice.CHOICE_A).build()));
        }
        pending.forEach(CompletableFuture::join);
    }

    @Test
    void exportToASlowClientSendsOnlyWhatFlowControlAllowsAndCompletesWithEveryLine() throws Exception {
        try (PreferenceStore store = openStore()) {
            addJudgedTasks(store, JUDGMENTS);
            PreferenceGrpcService service = new PreferenceGrpcService(store);
            Server server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                    .addService(service).build().start();
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
                    .flowControlWindow(CLIENT_WINDOW).build();
            try {
                List<String> lines = new CopyOnWriteArrayList<>();
                CountDownLatch firstLine = new CountDownLatch(1);
                AtomicBoolean flowing = new AtomicBoolean();
                CompletableFuture<Void> done = new CompletableFuture<>();
                ClientCallStreamObserver<?>[] requests = new ClientCallStreamObserver<?>[1];
                PreferenceServiceGrpc.newStub(channel).export(
                        ExportRequest.newBuilder().setFormat(ExportFormat.EXPORT_FORMAT_TRL).build(),
                        new ClientResponseObserver<ExportRequest, ExportLine>() {
                            @Override
                            public void beforeStart(ClientCallStreamObserver<ExportRequest> call) {
                                requests[0] = call;
                                call.disableAutoRequestWithInitial(1);
                            }

                            @Override
                            public void onNext(ExportLine line) {
                                lines.add(line.getLine());
                                firstLine.countDown();
                                if (flowing.get()) {
                                    requests[0].request(1);
                                }
                            }

                            @Override
                            public void onError(Throwable t) {
                                done.completeExceptionally(t);
                            }

                            @Override
                            public void onCompleted() {
                                done.complete(null);
                            }
                        });

                // the client takes one line, then stalls
                assertTrue(firstLine.await(30, TimeUnit.SECONDS), "the first line arrives");
                Thread.sleep(Duration.ofMillis(500).toMillis());
                long sentWhileStalled = service.exportLinesSent();
                // then it takes the rest one at a time
                flowing.set(true);
                requests[0].request(1);
                done.get(60, TimeUnit.SECONDS);

                long lineBytes = lines.get(0).length();
                long bound = (CLIENT_WINDOW + 32 * 1024) / lineBytes + 4;
                assertTrue(sentWhileStalled <= bound, "while the client stalled after one line the server sent "
                        + sentWhileStalled + " of " + JUDGMENTS + " lines of " + lineBytes
                        + " bytes; the client's window and gRPC's ready threshold allow about " + bound);
                assertTrue(service.exportResumes() > 0, "the export paused for flow control and resumed on ready");
                assertEquals(JUDGMENTS, lines.size(), "every judgment is exported");
                for (int i = 0; i < JUDGMENTS; i++) {
                    assertTrue(lines.get(i).contains("\"chosen\":\"" + i + "a"), "line " + i + " in judgment order");
                }
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
                server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void anInternalFailureAnswersWithoutAServerPath() throws Exception {
        try (PreferenceStore store = openStore()) {
            addJudgedTasks(store, 1);
            store.addTask(ComparisonTask.newBuilder().setTaskId("open").setPromptId("p")
                    .addCandidates(Candidate.newBuilder().setText("Lovely coffee."))
                    .addCandidates(Candidate.newBuilder().setText("Bad."))
                    .build()).join();
        }
        StoreCorruption.corruptPrompt(dir.resolve("db"), "p");
        try (NDManager manager = NDManager.newBaseManager();
                ServedModel model = TinyServedModel.create(manager, dir);
                PreferenceStore store = openStore();
                RunningServer running = RunningServer.start(model, RunningServer.SETTINGS, Optional.of(store))) {
            PreferenceServiceGrpc.PreferenceServiceBlockingStub stub = PreferenceServiceGrpc.newBlockingStub(
                    running.channel).withDeadlineAfter(30, TimeUnit.SECONDS);

            StatusRuntimeException nextTask = assertThrows(StatusRuntimeException.class,
                    () -> stub.nextTask(NextTaskRequest.newBuilder().setAnnotatorId("other").build()));
            StatusRuntimeException export = assertThrows(StatusRuntimeException.class,
                    () -> stub.export(ExportRequest.newBuilder().setFormat(ExportFormat.EXPORT_FORMAT_TRL).build())
                            .forEachRemaining(line -> {}));

            for (StatusRuntimeException e : List.of(nextTask, export)) {
                Status status = e.getStatus();
                assertEquals(Status.Code.INTERNAL, status.getCode(), status.toString());
                assertFalse(status.getDescription().contains(dir.toString()), "no server path: " + status);
                assertFalse(status.getDescription().contains("/"), "no path at all: " + status);
            }
        }
    }
}
