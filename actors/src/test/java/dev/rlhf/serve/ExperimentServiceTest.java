package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
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
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ExperimentService over a real loopback socket, driving real (tiny) runs: start, watch, checkpoint now, stop,
 * resume to the end; and each bad request's status.
 */
class ExperimentServiceTest {
    @TempDir
    static Path dir;

    private static Server server;
    private static ManagedChannel channel;
    private static ExperimentServiceGrpc.ExperimentServiceBlockingStub stub;

    @BeforeAll
    static void startServer() throws IOException {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        ExperimentLauncher launcher = (config, resume, listener) ->
                new ExperimentRunner(config, sft, TinyExperiments.quiet()).start(resume, listener);
        server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                .addService(new ExperimentGrpcService(ConfigFactory.load(), launcher))
                .build()
                .start();
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create())
                .build();
        stub = ExperimentServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
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

    private static CompletableFuture<List<IterationMetrics>> watch(String id, CountDownLatch first) {
        return CompletableFuture.supplyAsync(() -> {
            List<IterationMetrics> seen = new ArrayList<>();
            ExperimentServiceGrpc.newBlockingStub(channel)
                    .watchMetrics(WatchMetricsRequest.newBuilder().setExperimentId(id).setFromStart(true).build())
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
        String hocon = ConfigFactory.parseMap(TinyExperiments.keys(run, 1))
                .withValue("rlhf.experiment.iterations", ConfigValueFactory.fromAnyRef(iterations))
                .root().render(ConfigRenderOptions.concise());
        return StartExperimentRequest.newBuilder().setConfigHocon(hocon).setResume(resume).build();
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
