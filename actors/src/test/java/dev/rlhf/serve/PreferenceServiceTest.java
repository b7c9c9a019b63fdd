package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.proto.v1.AnnotatorStats;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ExportFormat;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.NextTaskResponse;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PreferenceService over a loopback socket on a RocksDB store: tasks out, judgments in, stats and export. */
class PreferenceServiceTest {
    @TempDir Path dir;
    private NDManager manager;
    private ServedModel model;
    private PreferenceStore store;
    private RunningServer running;
    private PreferenceServiceGrpc.PreferenceServiceBlockingStub stub;

    @BeforeEach
    void start() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir);
        store = PreferenceStore.open(new PreferenceStoreSettings(dir.resolve("db"), 1, 256, 3, 64, 1024, Duration.ofMinutes(30)));
        CafeTasks.add(store, "t1");
        running = RunningServer.start(model, RunningServer.SETTINGS, Optional.of(store));
        stub = PreferenceServiceGrpc.newBlockingStub(running.channel);
    }

    @AfterEach
    void stop() {
        running.close();
        store.close();
        model.close();
        manager.close();
    }

    private static JudgmentSubmission judgment(String id, String task, String annotator, Choice choice) {
        return JudgmentSubmission.newBuilder().setJudgmentId(id).setTaskId(task).setAnnotatorId(annotator)
                .setChoice(choice).build();
    }

    private SubmitJudgmentResponse submit(JudgmentSubmission submission) {
        return stub.submitJudgment(SubmitJudgmentRequest.newBuilder().setSubmission(submission).build());
    }

    @Test
    void taskJudgmentStatsAndExportRoundTrip() {
        NextTaskResponse next = stub.nextTask(NextTaskRequest.newBuilder().setAnnotatorId("ann").build());
        SubmitJudgmentResponse ack = submit(judgment("j1", "t1", "ann", Choice.CHOICE_B));
        SubmitJudgmentResponse resent = submit(judgment("j1", "t1", "ann", Choice.CHOICE_B));
        NextTaskResponse none = stub.nextTask(NextTaskRequest.newBuilder().setAnnotatorId("ann").build());
        AnnotatorStats stats = stub.getAnnotatorStats(GetAnnotatorStatsRequest.getDefaultInstance());
        List<String> lines = new ArrayList<>();
        stub.export(ExportRequest.newBuilder().setFormat(ExportFormat.EXPORT_FORMAT_TRL).build())
                .forEachRemaining(line -> lines.add(line.getLine()));

        assertEquals("t1", next.getTask().getTaskId());
        assertEquals("Review the cafe.", next.getPrompt().getText());
        assertEquals(1, ack.getSequence());
        assertEquals(ack, resent, "a resent judgment gets the same acknowledgement");
        assertFalse(none.hasTask(), "the only task is judged");
        assertEquals(1L, stats.getJudgmentsByAnnotatorOrThrow("ann"));
        assertEquals(1, lines.size());
        JsonObject line = JsonParser.parseString(lines.get(0)).getAsJsonObject();
        assertEquals("Bad.", line.get("chosen").getAsString());
        assertEquals("Lovely coffee.", line.get("rejected").getAsString());
        assertEquals(ServingStatus.SERVING, HealthGrpc.newBlockingStub(running.channel).check(
                HealthCheckRequest.newBuilder().setService(PreferenceServiceGrpc.SERVICE_NAME).build()).getStatus());
    }

    @Test
    void storeRejectionsAnswerTheStatusTheContractNamesWithTheField() {
        submit(judgment("j1", "t1", "ann", Choice.CHOICE_A));

        assertRejected(Status.Code.FAILED_PRECONDITION, "task_id", judgment("j2", "nope", "ann", Choice.CHOICE_A));
        assertRejected(Status.Code.INVALID_ARGUMENT, "choice",
                judgment("j3", "t1", "other", Choice.CHOICE_UNSPECIFIED));
        assertRejected(Status.Code.ALREADY_EXISTS, "annotator_id", judgment("j4", "t1", "ann", Choice.CHOICE_B));
        assertRejected(Status.Code.ALREADY_EXISTS, "judgment_id", judgment("j1", "t1", "ann", Choice.CHOICE_B));
        StatusRuntimeException format = assertThrows(StatusRuntimeException.class,
                () -> stub.export(ExportRequest.getDefaultInstance()).hasNext());
        assertEquals(Status.Code.INVALID_ARGUMENT, format.getStatus().getCode());
        assertTrue(format.getStatus().getDescription().startsWith("format"), format.getStatus().toString());
    }

    private void assertRejected(Status.Code code, String field, JudgmentSubmission submission) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> submit(submission));
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field), "expected the field " + field + " first: "
                + e.getStatus().getDescription());
    }
}
