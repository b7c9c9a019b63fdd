package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import dev.rlhf.store.JudgmentAck;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.store.WriteFaults;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * PreferenceService over a loopback socket when its store takes no changes: a writer hit by an Error, a full write
 * queue, a closed store. The store's writes go through {@link WriteFaults}, which holds or breaks them.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PreferenceServiceUnavailableTest {
    private static final int MAX_QUEUED_CHANGES = 2;
    private static final Duration WAIT = Duration.ofSeconds(10);

    @TempDir Path dir;
    private final WriteFaults faults = new WriteFaults();
    private NDManager manager;
    private ServedModel model;
    private PreferenceStore store;
    private RunningServer running;

    @BeforeEach
    void start() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir);
        store = faults.open(new PreferenceStoreSettings(dir.resolve("db"), 1, 256, 3, 64, MAX_QUEUED_CHANGES,
                Duration.ofMinutes(30)));
        CafeTasks.add(store, "t1", "t2", "t3", "t4");
        running = RunningServer.start(model, RunningServer.SETTINGS, Optional.of(store));
    }

    @AfterEach
    void stop() {
        faults.release();
        running.close();
        store.close();
        model.close();
        manager.close();
    }

    private PreferenceServiceGrpc.PreferenceServiceBlockingStub stub() {
        return PreferenceServiceGrpc.newBlockingStub(running.channel).withDeadlineAfter(WAIT.toMillis(),
                TimeUnit.MILLISECONDS);
    }

    private static JudgmentSubmission judgment(String id, String task) {
        return JudgmentSubmission.newBuilder().setJudgmentId(id).setTaskId(task).setAnnotatorId("ann")
                .setChoice(Choice.CHOICE_A).build();
    }

    private SubmitJudgmentResponse submit(JudgmentSubmission submission) {
        return stub().submitJudgment(SubmitJudgmentRequest.newBuilder().setSubmission(submission).build());
    }

    private ServingStatus health(String service) {
        return HealthGrpc.newBlockingStub(running.channel).withDeadlineAfter(WAIT.toMillis(), TimeUnit.MILLISECONDS)
                .check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
    }

    @Test
    void afterTheWriterFailsChangesAnswerUnavailableWithoutAPathAndHealthSaysNotServing() {
        faults.failNextWith(new Error("cannot sync " + dir.resolve("db").toAbsolutePath() + "/000009.log"));

        Status failedWrite = status(() -> submit(judgment("j1", "t1")));
        Status later = status(() -> submit(judgment("j2", "t2")));
        Status nextTask = status(() -> stub().nextTask(NextTaskRequest.newBuilder().setAnnotatorId("ann").build()));

        for (Status status : List.of(failedWrite, later, nextTask)) {
            assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
            assertTrue(status.getDescription().contains("failed") && status.getDescription().contains("cannot sync"),
                    "the description says the store failed and why: " + status);
            assertNoPath(status);
        }
        assertEquals(ServingStatus.NOT_SERVING, health(PreferenceServiceGrpc.SERVICE_NAME));
        assertEquals(ServingStatus.SERVING, health(PolicyServiceGrpc.SERVICE_NAME),
                "the policy does not depend on the store");
    }

    @Test
    void aJudgmentThatFindsTheWriteQueueFullAnswersResourceExhausted() throws Exception {
        faults.hold();
        CompletableFuture<JudgmentAck> held = store.submitJudgment(judgment("j1", "t1"));
        faults.awaitHeld(WAIT);
        List<CompletableFuture<JudgmentAck>> queued = List.of(
                store.submitJudgment(judgment("j2", "t2")), store.submitJudgment(judgment("j3", "t3")));

        Status full = status(() -> submit(judgment("j4", "t4")));
        faults.release();
        held.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        for (CompletableFuture<JudgmentAck> change : queued) {
            change.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        }
        SubmitJudgmentResponse resent = submit(judgment("j4", "t4"));

        assertEquals(MAX_QUEUED_CHANGES, queued.size());
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getCode(), full.toString());
        assertNoPath(full);
        assertEquals(4, resent.getSequence(), "once the queue drains the same judgment is accepted");
        assertEquals(ServingStatus.SERVING, health(PreferenceServiceGrpc.SERVICE_NAME),
                "a full queue is back-pressure, not a failure");
    }

    @Test
    void aClosedStoreAnswersUnavailableWithoutItsPath() {
        store.close();

        Status judgment = status(() -> submit(judgment("j1", "t1")));
        Status stats = status(() -> stub().getAnnotatorStats(GetAnnotatorStatsRequest.getDefaultInstance()));

        for (Status status : List.of(judgment, stats)) {
            assertEquals(Status.Code.UNAVAILABLE, status.getCode(), status.toString());
            assertNoPath(status);
        }
    }

    private static Status status(Executable call) {
        return assertThrows(StatusRuntimeException.class, call).getStatus();
    }

    private void assertNoPath(Status status) {
        assertFalse(status.getDescription().contains(dir.toString()),
                "the description must not name a server path: " + status);
    }
}
