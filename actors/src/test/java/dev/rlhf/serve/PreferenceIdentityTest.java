package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** With annotator tokens, PreferenceService over loopback acts for the token's owner, never for a claimed id. */
class PreferenceIdentityTest {
    private static final String SERVER_TOKEN = "server-token";
    private static final Map<String, String> ANNOTATOR_TOKENS = Map.of("alice", "alice-token", "bob", "bob-token");

    @TempDir Path dir;
    private NDManager manager;
    private ServedModel model;
    private PreferenceStore store;
    private RunningServer running;

    @BeforeEach
    void start() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir);
        store = PreferenceStore.open(new PreferenceStoreSettings(dir.resolve("db"), 2, 256, 3, 64, 1024,
                Duration.ofMinutes(30)));
        CafeTasks.add(store, "t1");
        ServeSettings settings = RunningServer.SETTINGS.withAuthToken(SERVER_TOKEN)
                .withAnnotatorTokens(ANNOTATOR_TOKENS);
        running = RunningServer.start(model, settings, Optional.of(store));
    }

    @AfterEach
    void stop() {
        running.close();
        store.close();
        model.close();
        manager.close();
    }

    private PreferenceServiceGrpc.PreferenceServiceBlockingStub preference(String token) {
        return bearing(PreferenceServiceGrpc.newBlockingStub(running.channel), token);
    }

    private static <S extends AbstractStub<S>> S bearing(S stub, String token) {
        S timed = stub.withDeadlineAfter(30, TimeUnit.SECONDS);
        if (token == null) {
            return timed;
        }
        Metadata headers = new Metadata();
        headers.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + token);
        return timed.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static NextTaskRequest nextFor(String annotatorId) {
        return NextTaskRequest.newBuilder().setAnnotatorId(annotatorId).build();
    }

    private static SubmitJudgmentRequest judgment(String id, String annotatorId) {
        return SubmitJudgmentRequest.newBuilder().setSubmission(JudgmentSubmission.newBuilder().setJudgmentId(id)
                .setTaskId("t1").setAnnotatorId(annotatorId).setChoice(Choice.CHOICE_A)).build();
    }

    private static Status status(Executable call) {
        return assertThrows(StatusRuntimeException.class, call).getStatus();
    }

    @Test
    void aliceTokenActsForAliceAndClaimingBobIsDenied() {
        String handed = preference("alice-token").nextTask(nextFor("")).getTask().getTaskId();
        Status claimNext = status(() -> preference("alice-token").nextTask(nextFor("bob")));
        Status claimJudgment = status(() -> preference("alice-token").submitJudgment(judgment("j-bob", "bob")));
        preference("alice-token").submitJudgment(judgment("j-alice", ""));
        Map<String, Long> counts = preference("alice-token").getAnnotatorStats(
                GetAnnotatorStatsRequest.getDefaultInstance()).getJudgmentsByAnnotatorMap();

        assertEquals("t1", handed, "an empty annotator_id means the token's owner");
        for (Status denied : new Status[] {claimNext, claimJudgment}) {
            assertEquals(Status.Code.PERMISSION_DENIED, denied.getCode(), denied.toString());
            assertTrue(denied.getDescription().startsWith("annotator_id"), denied.toString());
        }
        assertEquals(Map.of("alice", 1L), counts, "the judgment sent with an empty annotator_id is alice's");
        assertEquals("t1", preference("bob-token").nextTask(nextFor("bob")).getTask().getTaskId(),
                "bob's own token gets bob the task's second annotation");
    }

    @Test
    void aTokenOfNobodyOrNoneIsUnauthenticatedAndAnnotatorTokensOpenNoOtherService() {
        Status nobody = status(() -> preference("nobody-token").nextTask(nextFor("alice")));
        Status none = status(() -> preference(null).nextTask(nextFor("alice")));
        Status policy = status(() -> bearing(PolicyServiceGrpc.newBlockingStub(running.channel), "alice-token")
                .getModelInfo(GetModelInfoRequest.getDefaultInstance()));

        assertEquals(Status.Code.UNAUTHENTICATED, nobody.getCode(), nobody.toString());
        assertEquals(Status.Code.UNAUTHENTICATED, none.getCode(), none.toString());
        assertEquals(Status.Code.UNAUTHENTICATED, policy.getCode(), "PolicyService keeps to the server token");
    }

    @Test
    void theServerTokenActsForTheRequestsAnnotatorAsBefore() {
        String handed = preference(SERVER_TOKEN).nextTask(nextFor("carol")).getTask().getTaskId();
        Status empty = status(() -> preference(SERVER_TOKEN).nextTask(nextFor("")));

        assertEquals("t1", handed);
        assertEquals(Status.Code.INVALID_ARGUMENT, empty.getCode(), "without an annotator's token the id is needed");
    }
}
