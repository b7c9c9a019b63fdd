package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.TinyExperiments;
import dev.rlhf.proto.v1.CheckpointNowRequest;
import dev.rlhf.proto.v1.CheckpointNowResponse;
import dev.rlhf.proto.v1.ExperimentServiceGrpc;
import dev.rlhf.proto.v1.ExperimentState;
import dev.rlhf.proto.v1.ExperimentStatus;
import dev.rlhf.proto.v1.GetExperimentStatusRequest;
import dev.rlhf.proto.v1.IterationMetrics;
import dev.rlhf.proto.v1.StartExperimentRequest;
import dev.rlhf.proto.v1.StopExperimentRequest;
import dev.rlhf.proto.v1.WatchMetricsRequest;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ExperimentService as {@code rlhf serve --experiments} serves it, over a real loopback socket with bearer-token
 * auth on, driving real (tiny) runs: start, watch, checkpoint now, stop, resume to the end; each bad request's
 * status; each request the server's rules refuse; and no trace of the token in what a run writes.
 */
class ExperimentServiceTest {
    private static final String TOKEN = "experiments-token-" + UUID.randomUUID();

    /** The runs root: every experiment's run directory lies here. */
    @TempDir
    static Path dir;

    private static Path sft;
    private static NDManager manager;
    private static ServedModel model;
    private static RunningServer server;
    private static final ByteArrayOutputStream console = new ByteArrayOutputStream();
    private static ExperimentServiceGrpc.ExperimentServiceBlockingStub stub;

    @BeforeAll
    static void startServer() throws IOException {
        sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        Config base = ConfigFactory.parseMap(Map.of(
                        "rlhf.serve.auth-token", TOKEN,
                        ExperimentServeSettings.RUNS_ROOT, dir.toString(),
                        ExperimentServeSettings.POLICY_CHECKPOINT_DIRS, List.of(sft.toString())))
                .withFallback(ConfigFactory.load());
        PrintStream runConsole = new PrintStream(console, true, StandardCharsets.UTF_8);
        // the tiny SFT policy stands in for the embedded one
        ExperimentLauncher launcher = (config, resume, listener) -> new ExperimentRunner(config,
                config.getString("rlhf.experiment.policy-checkpoint").isEmpty()
                        ? sft : Path.of(config.getString("rlhf.experiment.policy-checkpoint")),
                runConsole).start(resume, listener);
        manager = NDManager.newBaseManager();
        model = ServedModel.load(sft, manager);
        server = RunningServer.start(model, RunningServer.SETTINGS.withAuthToken(TOKEN), Optional.empty(),
                Optional.empty(), Optional.of(new ExperimentGrpcService(base,
                        ExperimentServeSettings.fromConfig(base), launcher)));
        Metadata headers = new Metadata();
        headers.put(BearerTokenInterceptor.AUTHORIZATION, "Bearer " + TOKEN);
        stub = ExperimentServiceGrpc.newBlockingStub(server.channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
    }

    @AfterAll
    static void stopServer() {
        server.close();
        model.close();
        manager.close();
    }

    @Test
    void runIsWatchedCheckpointedStoppedAndResumedToItsEnd() throws Exception {
        Path run = dir.resolve("controlled");
        ExperimentStatus started = stub.startExperiment(start(run, 6, false));
        assertEquals(run.toString(), started.getExperimentId());
        assertEquals(ExperimentState.EXPERIMENT_STATE_STARTING, started.getState());
        assertEquals(6, started.getIterationsTotal());
        CountDownLatch firstIteration = new CountDownLatch(1);
        CompletableFuture<List<IterationMetrics>> watched = watch(started.getExperimentId(), firstIteration);
        assertTrue(firstIteration.await(5, TimeUnit.MINUTES), "the first iteration is streamed");

        CheckpointNowResponse checkpoint = stub.checkpointNow(
                CheckpointNowRequest.newBuilder().setExperimentId(started.getExperimentId()).build());
        assertTrue(Files.isDirectory(Path.of(checkpoint.getCheckpointPath())), checkpoint.getCheckpointPath());
        ExperimentStatus stopping = stub.stopExperiment(
                StopExperimentRequest.newBuilder().setExperimentId(started.getExperimentId()).build());
        assertEquals(ExperimentState.EXPERIMENT_STATE_STOPPING, stopping.getState());

        ExperimentStatus stopped = awaitEnd(started.getExperimentId());
        assertEquals(ExperimentState.EXPERIMENT_STATE_STOPPED, stopped.getState(), stopped.toString());
        assertTrue(stopped.getIterationsDone() < 6, "stopped early: " + stopped);
        assertTrue(Files.isDirectory(Path.of(stopped.getCheckpointPath())), stopped.getCheckpointPath());
        List<IterationMetrics> firstPart = watched.get(1, TimeUnit.MINUTES);
        assertEquals(IntStream.rangeClosed(1, stopped.getIterationsDone()).boxed().toList(),
                firstPart.stream().map(IterationMetrics::getIteration).toList(),
                "every iteration streamed once, and the stream completes when the run stops");
        assertTrue(firstPart.get(0).getScalarsMap().containsKey("kl/to_reference"));

        ExperimentStatus resumed = stub.startExperiment(start(run, 6, true));
        assertEquals(stopped.getIterationsDone(), resumed.getIterationsDone(), "counts the checkpoint's iterations");
        ExperimentStatus finished = awaitEnd(run.toString());
        assertEquals(ExperimentState.EXPERIMENT_STATE_FINISHED, finished.getState(), finished.toString());
        assertEquals(6, finished.getIterationsDone());
        assertTrue(Files.isRegularFile(Path.of(finished.getSummaryPath())), finished.getSummaryPath());
        assertTrue(finished.getLatestMetricsMap().containsKey("reward/rm_mean"));
        assertTrue(finished.getRewardModelVersion() >= 1);
        assertCode(Status.Code.FAILED_PRECONDITION, () -> stub.stopExperiment(StopExperimentRequest.getDefaultInstance()));
    }

    @Test
    void badRequestsGetTheirStatusNamingTheField() throws Exception {
        assertCode(Status.Code.INVALID_ARGUMENT, "config_hocon does not parse",
                () -> stub.startExperiment(StartExperimentRequest.newBuilder().setConfigHocon("rlhf {").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, "rlhf.experiment.run-dir",
                () -> stub.startExperiment(StartExperimentRequest.newBuilder()
                        .setConfigHocon("rlhf.experiment.iterations = 3").build()));
        assertCode(Status.Code.INVALID_ARGUMENT, "rlhf.experiment.iterations",
                () -> stub.startExperiment(start(dir.resolve("zero"), 0, false)));
        assertCode(Status.Code.NOT_FOUND, "experiment_id nowhere",
                () -> stub.getExperimentStatus(GetExperimentStatusRequest.newBuilder().setExperimentId("nowhere").build()));
        Path taken = dir.resolve("taken");
        Files.createDirectories(taken);
        Files.writeString(taken.resolve("metrics.jsonl"), "{\"iteration\":1}\n");
        assertCode(Status.Code.ALREADY_EXISTS, "already holds a run",
                () -> stub.startExperiment(start(taken, 2, false)));
    }

    /**
     * Requests the server's rules refuse, each added after a valid tiny experiment: the status, the key its
     * description names, and a value of the server's it must not echo (empty: none).
     */
    static Stream<Arguments> refusedRequests() {
        String home = Objects.requireNonNullElse(System.getenv("HOME"), "");
        String path = Objects.requireNonNullElse(System.getenv("PATH"), "");
        String userHome = System.getProperty("user.home");
        String runDir = "rlhf.experiment.run-dir";
        String checkpoint = "rlhf.experiment.policy-checkpoint";
        return Stream.of(
                Arguments.of("include \"application.conf\"", Status.Code.INVALID_ARGUMENT, "include", ""),
                Arguments.of("include file(\"/etc/hostname\")", Status.Code.INVALID_ARGUMENT, "include", ""),
                Arguments.of("include url(\"file:///etc/hostname\")", Status.Code.INVALID_ARGUMENT, "include", ""),
                Arguments.of("include classpath(\"reference.conf\")", Status.Code.INVALID_ARGUMENT, "include", ""),
                Arguments.of("rlhf.experiment { include required(file(\"/etc/passwd\")) }",
                        Status.Code.INVALID_ARGUMENT, "include", ""),
                Arguments.of(runDir + " = ${HOME}", Status.Code.INVALID_ARGUMENT, runDir, home),
                Arguments.of(checkpoint + " = ${PATH}", Status.Code.INVALID_ARGUMENT, checkpoint, path),
                Arguments.of(runDir + " = runs-of-${HOME}", Status.Code.INVALID_ARGUMENT, runDir, home),
                Arguments.of(runDir + " = ${user.home}", Status.Code.INVALID_ARGUMENT, runDir, userHome),
                Arguments.of(runDir + " = ${rlhf.serve.auth-token}", Status.Code.INVALID_ARGUMENT, runDir, TOKEN),
                Arguments.of("rlhf.experiment = ${HOME} { seed = 3 }", Status.Code.INVALID_ARGUMENT,
                        "rlhf.experiment", home),
                Arguments.of(runDir + " = \"/elsewhere/run\"", Status.Code.PERMISSION_DENIED, runDir, ""),
                Arguments.of(runDir + " = \"" + dir.resolveSibling("next-to-the-root") + "\"",
                        Status.Code.PERMISSION_DENIED, runDir, ""),
                Arguments.of(runDir + " = \"../x\"", Status.Code.PERMISSION_DENIED, runDir, ""),
                Arguments.of(runDir + " = \"a/../../x\"", Status.Code.PERMISSION_DENIED, runDir, ""),
                Arguments.of(runDir + " = \".\"", Status.Code.PERMISSION_DENIED, runDir, ""),
                Arguments.of("pekko.loglevel = DEBUG", Status.Code.INVALID_ARGUMENT, "pekko.loglevel", ""),
                Arguments.of("pekko { actor.provider = cluster }", Status.Code.INVALID_ARGUMENT,
                        "pekko.actor.provider", ""),
                Arguments.of("rlhf.serve.auth-token = guess", Status.Code.INVALID_ARGUMENT, "rlhf.serve.auth-token",
                        TOKEN),
                Arguments.of("rlhf.cluster.enabled = true", Status.Code.INVALID_ARGUMENT, "rlhf.cluster.enabled", ""),
                Arguments.of("rlhf.embedded-model-dir = \"/tmp\"", Status.Code.INVALID_ARGUMENT,
                        "rlhf.embedded-model-dir", ""),
                Arguments.of("rlhf.store.path = elsewhere", Status.Code.INVALID_ARGUMENT, "rlhf.store.path", ""),
                Arguments.of(checkpoint + " = \"" + dir.resolve("other-sft") + "\"", Status.Code.PERMISSION_DENIED,
                        checkpoint, ""),
                Arguments.of(checkpoint + " = \"" + sft + "/../other-sft\"", Status.Code.PERMISSION_DENIED,
                        checkpoint, ""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusedRequests")
    void refusedRequestAnswersItsStatusNamingTheKey(String hocon, Status.Code code, String key, String serverValue) {
        Path run = dir.resolve("refused");
        StartExperimentRequest request = StartExperimentRequest.newBuilder()
                .setConfigHocon(tinyHocon(run, 2) + "\n" + hocon).build();

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.startExperiment(request));

        String description = String.valueOf(e.getStatus().getDescription());
        assertEquals(code, e.getStatus().getCode(), description);
        assertTrue(description.contains(key), "names " + key + ": " + description);
        assertTrue(serverValue.isEmpty() || !description.contains(serverValue),
                "echoes a value of the server's: " + description);
        assertFalse(Files.exists(run), "a refused request starts nothing");
    }

    @Test
    void bearerTokenIsWrittenNowhereByARunStartedThroughTheService() throws Exception {
        Path run = dir.resolve("without-token");
        String hocon = tinyHocon(run, 1) + "\nrlhf.experiment.policy-checkpoint = "
                + ConfigValueFactory.fromAnyRef(sft.toString()).render(ConfigRenderOptions.concise());

        ExperimentStatus started = stub.startExperiment(StartExperimentRequest.newBuilder()
                .setConfigHocon(hocon).build());
        ExperimentStatus finished = awaitEnd(started.getExperimentId());

        assertEquals(ExperimentState.EXPERIMENT_STATE_FINISHED, finished.getState(), finished.toString());
        assertTrue(Files.isRegularFile(run.resolve("config.conf")) && Files.isRegularFile(run.resolve("run.log")),
                "the run recorded its configuration and its log");
        assertEquals(List.of(), filesHolding(run, TOKEN), "files of the run directory that hold the bearer token");
        assertFalse(console.toString(StandardCharsets.UTF_8).contains(TOKEN), "the runs' console holds the token");
    }

    private static CompletableFuture<List<IterationMetrics>> watch(String id, CountDownLatch first) {
        return CompletableFuture.supplyAsync(() -> {
            List<IterationMetrics> seen = new ArrayList<>();
            stub.watchMetrics(WatchMetricsRequest.newBuilder().setExperimentId(id).setFromStart(true).build())
                    .forEachRemaining(metrics -> {
                        seen.add(metrics);
                        first.countDown();
                    });
            return seen;
        });
    }

    private static ExperimentStatus awaitEnd(String id) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (true) {
            ExperimentStatus status = stub.getExperimentStatus(
                    GetExperimentStatusRequest.newBuilder().setExperimentId(id).build());
            boolean ended = switch (status.getState()) {
                case EXPERIMENT_STATE_STOPPED, EXPERIMENT_STATE_FINISHED, EXPERIMENT_STATE_FAILED -> true;
                default -> false;
            };
            if (ended || System.nanoTime() > deadline) {
                return status;
            }
            Thread.sleep(100);
        }
    }

    private static StartExperimentRequest start(Path run, int iterations, boolean resume) {
        return StartExperimentRequest.newBuilder().setConfigHocon(tinyHocon(run, iterations)).setResume(resume).build();
    }

    /** A tiny experiment's keys as HOCON lines, so that a test can add lines after them. */
    private static String tinyHocon(Path run, int iterations) {
        return TinyExperiments.keys(run, iterations).entrySet().stream()
                .map(key -> key.getKey() + " = "
                        + ConfigValueFactory.fromAnyRef(key.getValue()).render(ConfigRenderOptions.concise()))
                .collect(Collectors.joining("\n"));
    }

    /** The files under {@code root} whose bytes hold {@code text} (ASCII). */
    private static List<Path> filesHolding(Path root, String text) throws IOException {
        try (Stream<Path> files = Files.walk(root)) {
            List<Path> holding = new ArrayList<>();
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(text)) {
                    holding.add(root.relativize(file));
                }
            }
            return holding;
        }
    }

    private static void assertCode(Status.Code code, Runnable call) {
        assertCode(code, "", call);
    }

    private static void assertCode(Status.Code code, String inMessage, Runnable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::run);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(String.valueOf(e.getStatus().getDescription()).contains(inMessage), e.getStatus().toString());
    }
}
