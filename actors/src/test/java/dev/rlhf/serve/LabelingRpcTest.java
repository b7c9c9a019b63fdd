package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.proto.v1.GetAnnotatorStatsRequest;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportFormat;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.AddAnnotatorRequest;
import dev.rlhf.proto.v1.AdjudicateRequest;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.GetAgreementRequest;
import dev.rlhf.proto.v1.GetLabelingOverviewRequest;
import dev.rlhf.proto.v1.GetQueueStatusRequest;
import dev.rlhf.proto.v1.Identity;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.ListDisagreementsRequest;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.PreferenceServiceGrpc.PreferenceServiceBlockingStub;
import dev.rlhf.proto.v1.RetractJudgmentRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorRequest;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.WhoAmIRequest;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.store.WriteFaults;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * The labeling RPCs of a {@link PreferenceServer} over a loopback socket: who may call what (an annotator's token,
 * an admin's, the server's, a configured one, a revoked one, none), and the status codes of the calls' failures.
 */
class LabelingRpcTest {
    private static final String SERVER_TOKEN = "server-token";
    private static final String CONFIG_TOKEN = "config-token";

    @TempDir Path dir;
    private final WriteFaults faults = new WriteFaults();
    private PreferenceStore store;
    private PreferenceServer server;
    private ManagedChannel channel;

    /** A caller of the table: the token it bears (null for none). */
    private enum Caller { ADMIN, ANNOTATOR, CONFIGURED, SERVER, REVOKED, UNKNOWN, NONE }

    private final Map<Caller, String> tokens = new EnumMap<>(Caller.class);

    private void start(ServeSettings settings) throws IOException {
        store = faults.open(new PreferenceStoreSettings(dir.resolve("db"), 2, 256, 3, 64, 1024,
                Duration.ofMinutes(30)));
        CafeTasks.add(store, "t1", "t2");
        server = PreferenceServer.start(store, settings, "127.0.0.1", 0);
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.address().getPort(),
                InsecureChannelCredentials.create()).build();
    }

    private void startWithEveryKindOfToken() throws IOException {
        start(RunningServer.SETTINGS.withAuthToken(SERVER_TOKEN).withAnnotatorTokens(Map.of("cfg", CONFIG_TOKEN)));
        tokens.put(Caller.ADMIN, store.addAnnotator("root", true).join());
        tokens.put(Caller.ANNOTATOR, store.addAnnotator("ann", false).join());
        tokens.put(Caller.CONFIGURED, CONFIG_TOKEN);
        tokens.put(Caller.SERVER, SERVER_TOKEN);
        tokens.put(Caller.REVOKED, store.addAnnotator("gone", true).join());
        store.revokeAnnotator("gone").join();
        tokens.put(Caller.UNKNOWN, "nobody-token");
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
        if (store != null) {
            store.close();
        }
    }

    private PreferenceServiceBlockingStub stub(String token) {
        PreferenceServiceBlockingStub stub = PreferenceServiceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        if (token == null) {
            return stub;
        }
        Metadata headers = new Metadata();
        headers.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    private static Status.Code code(Executable call) {
        try {
            call.execute();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    private static Status status(Executable call) {
        return assertThrows(StatusRuntimeException.class, call).getStatus();
    }

    /** One call of the table, made by a caller's stub. */
    private record Rpc(String name, Consumer<PreferenceServiceBlockingStub> call) {}

    private static final List<Rpc> RPCS = List.of(
            new Rpc("WhoAmI", s -> s.whoAmI(WhoAmIRequest.getDefaultInstance())),
            new Rpc("RetractJudgment", s -> s.retractJudgment(RetractJudgmentRequest.newBuilder()
                    .setJudgmentId("no-such-judgment").build())),
            new Rpc("GetQueueStatus", s -> s.getQueueStatus(GetQueueStatusRequest.getDefaultInstance())),
            new Rpc("AddAnnotator", s -> s.addAnnotator(AddAnnotatorRequest.newBuilder()
                    .setName("new-" + System.nanoTime()).build())),
            new Rpc("RevokeAnnotator", s -> s.revokeAnnotator(RevokeAnnotatorRequest.newBuilder().setName("gone")
                    .build())),
            new Rpc("GetLabelingOverview", s -> s.getLabelingOverview(GetLabelingOverviewRequest.getDefaultInstance())),
            new Rpc("GetAgreement", s -> s.getAgreement(GetAgreementRequest.getDefaultInstance())),
            new Rpc("ListDisagreements", s -> s.listDisagreements(ListDisagreementsRequest.getDefaultInstance())),
            new Rpc("Adjudicate", s -> s.adjudicate(AdjudicateRequest.newBuilder().setAdjudication(
                    Adjudication.newBuilder().setTaskId("t1").setChoice(Choice.CHOICE_A)).build())));

    /** The code each caller gets from each RPC of {@link #RPCS}, in that order. */
    private static final Map<Caller, List<Status.Code>> EXPECTED = Map.of(
            Caller.ADMIN, codes("OK NOT_FOUND OK OK OK OK OK OK OK"),
            Caller.ANNOTATOR, codes("OK NOT_FOUND OK PERMISSION_DENIED PERMISSION_DENIED PERMISSION_DENIED "
                    + "PERMISSION_DENIED PERMISSION_DENIED PERMISSION_DENIED"),
            Caller.CONFIGURED, codes("OK NOT_FOUND OK PERMISSION_DENIED PERMISSION_DENIED PERMISSION_DENIED "
                    + "PERMISSION_DENIED PERMISSION_DENIED PERMISSION_DENIED"),
            // the server's token names no annotator, so the annotator calls need annotator_id
            Caller.SERVER, codes("OK INVALID_ARGUMENT INVALID_ARGUMENT OK OK OK OK OK OK"),
            Caller.REVOKED, codes("UNAUTHENTICATED ".repeat(9)),
            Caller.UNKNOWN, codes("UNAUTHENTICATED ".repeat(9)),
            Caller.NONE, codes("UNAUTHENTICATED ".repeat(9)));

    private static List<Status.Code> codes(String names) {
        return List.of(names.trim().split(" +")).stream().map(Status.Code::valueOf).toList();
    }

    @Test
    void everyCallerGetsTheStatusTheContractNamesFromEveryLabelingRpc() throws IOException {
        startWithEveryKindOfToken();

        List<String> wrong = new ArrayList<>();
        for (Caller caller : Caller.values()) {
            for (int i = 0; i < RPCS.size(); i++) {
                Rpc rpc = RPCS.get(i);
                Status.Code got = code(() -> rpc.call().accept(stub(tokens.get(caller))));
                if (got != EXPECTED.get(caller).get(i)) {
                    wrong.add(caller + " " + rpc.name() + ": got " + got + ", want " + EXPECTED.get(caller).get(i));
                }
            }
        }

        assertEquals(List.of(), wrong);
    }

    @Test
    void whoAmINamesTheTokensOwnerAndTheServerTokenIsAnAdminWithNoName() throws IOException {
        startWithEveryKindOfToken();

        Identity admin = stub(tokens.get(Caller.ADMIN)).whoAmI(WhoAmIRequest.getDefaultInstance());
        Identity annotator = stub(tokens.get(Caller.ANNOTATOR)).whoAmI(WhoAmIRequest.getDefaultInstance());
        Identity operator = stub(SERVER_TOKEN).whoAmI(WhoAmIRequest.getDefaultInstance());

        assertEquals(Identity.newBuilder().setAnnotatorId("root").setAdmin(true).build(), admin);
        assertEquals(Identity.newBuilder().setAnnotatorId("ann").build(), annotator);
        assertEquals(Identity.newBuilder().setAdmin(true).build(), operator);
    }

    @Test
    void anAnnotatorRetractsTheirOwnJudgmentOnceAndTheTaskComesBack() throws IOException {
        startWithEveryKindOfToken();
        PreferenceServiceBlockingStub ann = stub(tokens.get(Caller.ANNOTATOR));
        assertEquals("t1", ann.nextTask(NextTaskRequest.getDefaultInstance()).getTask().getTaskId());
        ann.submitJudgment(SubmitJudgmentRequest.newBuilder().setSubmission(JudgmentSubmission.newBuilder()
                .setJudgmentId("j1").setTaskId("t1").setChoice(Choice.CHOICE_BOTH_BAD)).build());
        RetractJudgmentRequest retract = RetractJudgmentRequest.newBuilder().setJudgmentId("j1").build();

        Status byAdmin = status(() -> stub(tokens.get(Caller.ADMIN)).retractJudgment(retract));
        Status forOther = status(() -> stub(tokens.get(Caller.ADMIN)).retractJudgment(
                retract.toBuilder().setAnnotatorId("ann").build()));
        String taskId = ann.retractJudgment(retract).getTaskId();
        Status twice = status(() -> ann.retractJudgment(retract));

        assertEquals(Status.Code.NOT_FOUND, byAdmin.getCode(), "an admin's own judgments do not include ann's");
        assertEquals(Status.Code.PERMISSION_DENIED, forOther.getCode(), "only the server's token acts for others");
        assertEquals("t1", taskId);
        assertEquals(Status.Code.FAILED_PRECONDITION, twice.getCode(), twice.toString());
        assertEquals("t1", ann.nextTask(NextTaskRequest.getDefaultInstance()).getTask().getTaskId(),
                "the retracted task is ann's again");
        assertEquals(0, ann.getQueueStatus(GetQueueStatusRequest.getDefaultInstance()).getJudgedTotal());
        assertEquals(Status.Code.FAILED_PRECONDITION, status(() -> stub(SERVER_TOKEN).retractJudgment(
                retract.toBuilder().setAnnotatorId("ann").build())).getCode(), "the server's token acts for ann");
    }

    @Test
    void anAnnotatorSeesOnlyTheirOwnCountAndCannotExportEveryonesJudgments() throws IOException {
        startWithEveryKindOfToken();
        PreferenceServiceBlockingStub ann = stub(tokens.get(Caller.ANNOTATOR));
        PreferenceServiceBlockingStub admin = stub(tokens.get(Caller.ADMIN));
        for (PreferenceServiceBlockingStub who : List.of(ann, admin)) {
            String task = who.nextTask(NextTaskRequest.getDefaultInstance()).getTask().getTaskId();
            who.submitJudgment(SubmitJudgmentRequest.newBuilder().setSubmission(JudgmentSubmission.newBuilder()
                    .setJudgmentId("j-" + task + "-" + who.hashCode()).setTaskId(task).setChoice(Choice.CHOICE_A))
                    .build());
        }
        ExportRequest export = ExportRequest.newBuilder().setFormat(ExportFormat.EXPORT_FORMAT_TRL).build();

        Map<String, Long> annSees = ann.getAnnotatorStats(GetAnnotatorStatsRequest.getDefaultInstance())
                .getJudgmentsByAnnotatorMap();
        Map<String, Long> adminSees = admin.getAnnotatorStats(GetAnnotatorStatsRequest.getDefaultInstance())
                .getJudgmentsByAnnotatorMap();
        Status annExports = status(() -> ann.export(export).forEachRemaining(line -> {}));
        List<ExportLine> adminExports = new ArrayList<>();
        admin.export(export).forEachRemaining(adminExports::add);

        assertEquals(Map.of("ann", 1L), annSees);
        assertEquals(Map.of("ann", 1L, "root", 1L), adminSees);
        assertEquals(Status.Code.PERMISSION_DENIED, annExports.getCode(), annExports.toString());
        assertEquals(2, adminExports.size());
    }

    @Test
    void aRevokedTokenIsRefusedOnItsVeryNextCall() throws IOException {
        startWithEveryKindOfToken();
        PreferenceServiceBlockingStub admin = stub(tokens.get(Caller.ADMIN));
        String dan = admin.addAnnotator(AddAnnotatorRequest.newBuilder().setName("dan").build()).getToken();
        assertEquals("dan", stub(dan).whoAmI(WhoAmIRequest.getDefaultInstance()).getAnnotatorId());

        admin.revokeAnnotator(RevokeAnnotatorRequest.newBuilder().setName("dan").build());
        Status refused = status(() -> stub(dan).whoAmI(WhoAmIRequest.getDefaultInstance()));

        assertEquals(Status.Code.UNAUTHENTICATED, refused.getCode());
    }

    @Test
    void adminCallFailuresNameTheFieldAndTheRightCode() throws IOException {
        startWithEveryKindOfToken();
        PreferenceServiceBlockingStub admin = stub(tokens.get(Caller.ADMIN));

        Status taken = status(() -> admin.addAnnotator(AddAnnotatorRequest.newBuilder().setName("ann").build()));
        Status badName = status(() -> admin.addAnnotator(AddAnnotatorRequest.newBuilder().setName("").build()));
        Status unknown = status(() -> admin.revokeAnnotator(RevokeAnnotatorRequest.newBuilder().setName("x").build()));
        Status badChoice = status(() -> admin.adjudicate(AdjudicateRequest.newBuilder().setAdjudication(
                Adjudication.newBuilder().setTaskId("t1").setChoice(Choice.CHOICE_SKIP)).build()));
        Status badLimit = status(() -> admin.listDisagreements(ListDisagreementsRequest.newBuilder().setLimit(-1)
                .build()));
        Adjudication recorded = admin.adjudicate(AdjudicateRequest.newBuilder().setAdjudication(
                Adjudication.newBuilder().setTaskId("t1").setChoice(Choice.CHOICE_B)).build());
        Adjudication byOperator = stub(SERVER_TOKEN).adjudicate(AdjudicateRequest.newBuilder().setAdjudication(
                Adjudication.newBuilder().setTaskId("t2").setChoice(Choice.CHOICE_A)).build());

        assertEquals(Status.Code.ALREADY_EXISTS, taken.getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, badName.getCode());
        assertTrue(badName.getDescription().startsWith("name"), badName.toString());
        assertEquals(Status.Code.NOT_FOUND, unknown.getCode());
        assertEquals(Status.Code.INVALID_ARGUMENT, badChoice.getCode());
        assertTrue(badChoice.getDescription().startsWith("choice"), badChoice.toString());
        assertEquals(Status.Code.INVALID_ARGUMENT, badLimit.getCode());
        assertTrue(badLimit.getDescription().startsWith("limit"), badLimit.toString());
        assertEquals("root", recorded.getAdjudicator());
        assertTrue(recorded.hasAdjudicatedAt());
        assertEquals(PreferenceAdminCalls.OPERATOR, byOperator.getAdjudicator());
        for (Status s : List.of(taken, badName, unknown, badChoice)) {
            assertFalse(s.getDescription().contains(dir.toString()), "no server path: " + s);
        }
    }

    @Test
    void withAuthOffTheAnnotatorCallsTakeTheSentIdAndTheFirstRegistrationTurnsAuthOn() throws IOException {
        start(RunningServer.SETTINGS);
        PreferenceServiceBlockingStub anonymous = stub(null);

        String handed = anonymous.nextTask(NextTaskRequest.newBuilder().setAnnotatorId("alice").build())
                .getTask().getTaskId();
        Status who = status(() -> anonymous.whoAmI(WhoAmIRequest.getDefaultInstance()));
        Status agreement = status(() -> anonymous.getAgreement(GetAgreementRequest.getDefaultInstance()));
        long left = anonymous.getQueueStatus(GetQueueStatusRequest.newBuilder().setAnnotatorId("alice").build())
                .getTasksLeft();
        String token = store.addAnnotator("root", true).join();
        Status afterRegistration = status(() -> anonymous.nextTask(NextTaskRequest.newBuilder()
                .setAnnotatorId("alice").build()));

        assertEquals("t1", handed);
        assertEquals(Status.Code.UNAUTHENTICATED, who.getCode());
        assertEquals(PreferenceCaller.NO_ANNOTATORS, who.getDescription());
        assertEquals(Status.Code.PERMISSION_DENIED, agreement.getCode());
        assertEquals(PreferenceCaller.NO_ANNOTATORS, agreement.getDescription());
        assertEquals(2, left, "t1 assigned to alice, t2 never seen");
        assertEquals(Status.Code.UNAUTHENTICATED, afterRegistration.getCode());
        assertEquals("root", stub(token).whoAmI(WhoAmIRequest.getDefaultInstance()).getAnnotatorId());
    }

    @Test
    void healthTurnsNotServingWhenTheStoreFailsAndAClosedStoreAnswersUnavailable() throws Exception {
        start(RunningServer.SETTINGS);
        HealthGrpc.HealthBlockingStub health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(30,
                TimeUnit.SECONDS);
        HealthCheckRequest preference = HealthCheckRequest.newBuilder().setService(PreferenceServiceGrpc.SERVICE_NAME)
                .build();
        assertEquals(ServingStatus.SERVING, health.check(preference).getStatus());

        faults.failNextWith(new Error("cannot sync " + dir.resolve("db") + "/000009.log"));
        Status failed = status(() -> stub(null).nextTask(NextTaskRequest.newBuilder().setAnnotatorId("a").build()));
        ServingStatus afterFailure = health.check(preference).getStatus();
        store.close();
        Status closed = status(() -> stub(null).whoAmI(WhoAmIRequest.getDefaultInstance()));

        assertEquals(Status.Code.UNAVAILABLE, failed.getCode(), failed.toString());
        assertFalse(failed.getDescription().contains(dir.toString()), failed.toString());
        assertEquals(ServingStatus.NOT_SERVING, afterFailure);
        assertEquals(Status.Code.UNAVAILABLE, closed.getCode(), "the interceptor cannot read the closed store");
        assertFalse(closed.getDescription().contains(dir.toString()), closed.toString());
    }
}
