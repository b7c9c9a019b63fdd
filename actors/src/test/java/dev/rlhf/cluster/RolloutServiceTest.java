package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.rlhf.actors.LocalPolicyReplica;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.actors.WeightsBoard;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.Generator;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.LoadWeightsRequest;
import dev.rlhf.proto.v1.RolloutRequest;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * RolloutService in front of a real rollout worker: every bad field answers INVALID_ARGUMENT naming it, and a
 * loaded weight version generates exactly what the same weights generate in this JVM.
 */
class RolloutServiceTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    /** Room for the test policy's header (about 100 bytes a tensor), far below the default 1 MiB. */
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    @TempDir static Path dir;
    private static NDManager manager;
    private static TextTokenizer tokenizer;
    private static GptWeights base;

    private Server server;
    private ManagedChannel channel;
    private RolloutServiceGrpc.RolloutServiceBlockingStub stub;

    @BeforeAll
    static void buildPolicy() throws Exception {
        manager = NDManager.newBaseManager();
        tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300)
                .train(List.of("The room was nice.", "The staff was rude.")).writeTokenizerJson(dir));
        base = GptWeights.random(GptConfig.of(tokenizer.vocabSize(), 32, 16, 1, 2, -1), false, manager, 3);
    }

    @AfterAll
    static void closePolicy() {
        TESTKIT.shutdownTestKit();
        base.close();
        tokenizer.close();
        manager.close();
    }

    @BeforeEach
    void startService() throws Exception {
        WeightsBoard board = new WeightsBoard(WeightsSnapshot.of(base, 0));
        ActorRef<RolloutWorker.Command> worker = TESTKIT.spawn(
                RolloutWorker.create(0, LocalPolicyReplica.factory(base, tokenizer, board, manager)));
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new RolloutGrpcService(worker, board, base.config(), MAX_HEADER_BYTES,
                        TESTKIT.scheduler(), Duration.ofSeconds(30)))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = RolloutServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stopService() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void badChunkFieldsAnswerInvalidArgumentNamingTheField() {
        int vocab = base.config().vocabSize();
        assertInvalid("chunk", () -> stub.generateChunk(chunk(r -> r).toBuilder().setChunk(-1).build()));
        assertInvalid("requests", () -> stub.generateChunk(GenerateChunkRequest.newBuilder().setChunk(0).build()));
        assertInvalid("requests[0].prompt_token_ids",
                () -> stub.generateChunk(chunk(r -> r.clearPromptTokenIds())));
        assertInvalid("requests[0].prompt_token_ids[",
                () -> stub.generateChunk(chunk(r -> r.addPromptTokenIds(vocab))));
        assertInvalid("requests[0].prompt_token_ids",
                () -> stub.generateChunk(chunk(r -> r.clearPromptTokenIds().addAllPromptTokenIds(
                        Collections.nCopies(32, 1)))));
        assertInvalid("requests[0].sampling", () -> stub.generateChunk(chunk(r -> r.clearSampling())));
        assertInvalid("requests[0].sampling.temperature", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().setTemperature(Float.NaN)))));
        assertInvalid("requests[0].sampling.top_k", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().setTopK(-1)))));
        assertInvalid("requests[0].sampling.top_p", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().setTopP(0)))));
        assertInvalid("requests[0].sampling.max_new_tokens", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().setMaxNewTokens(0)))));
        assertInvalid("requests[0].sampling.repetition_penalty", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().setRepetitionPenalty(0)))));
        assertInvalid("requests[0].sampling.stop[0]", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().addStop("")))));
        assertInvalid("requests[0].sampling.stop_token_ids[0]", () -> stub.generateChunk(chunk(r -> r.setSampling(
                r.getSampling().toBuilder().addStopTokenIds(-3)))));

        assertEquals(1, stub.generateChunk(chunk(r -> r)).getCompletionsCount(), "the service still answers");
    }

    @Test
    void badWeightsAnswerInvalidArgumentNamingTheField() {
        WeightsSnapshot snapshot = shifted(1);
        Map<String, float[]> missing = new LinkedHashMap<>(snapshot.tensors());
        missing.remove("ln_f.bias");
        Map<String, float[]> resized = new LinkedHashMap<>(snapshot.tensors());
        resized.put("ln_f.bias", new float[3]);

        assertInvalid("version", () -> stub.loadWeights(load(snapshot).toBuilder().setVersion(-1).build()));
        assertInvalid("safetensors", () -> stub.loadWeights(load(snapshot).toBuilder()
                .setSafetensors(ByteString.EMPTY).build()));
        ByteString garbage = ByteString.copyFromUtf8("not a safetensors file");
        assertInvalid("safetensors", () -> stub.loadWeights(load(snapshot).toBuilder()
                .setSafetensors(garbage).setSha256(SnapshotSafetensors.sha256(garbage)).build()));
        assertInvalid("safetensors must hold tensor ln_f.bias",
                () -> stub.loadWeights(load(new WeightsSnapshot(1, missing))));
        assertInvalid("safetensors must hold tensor ln_f.bias",
                () -> stub.loadWeights(load(new WeightsSnapshot(1, resized))));

        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "the bad weights were not loaded");
    }

    @Test
    void weightsWhoseBytesDoNotMatchTheirDigestAnswerInvalidArgumentNamingSha256() {
        LoadWeightsRequest valid = load(shifted(1));
        byte[] tampered = valid.getSafetensors().toByteArray();
        tampered[tampered.length - 1] ^= 0x01; // one bit of the last value, the header still intact

        assertInvalid("sha256", () -> stub.loadWeights(valid.toBuilder()
                .setSafetensors(ByteString.copyFrom(tampered)).build()));
        assertInvalid("sha256", () -> stub.loadWeights(valid.toBuilder().clearSha256().build()));
        assertInvalid("sha256", () -> stub.loadWeights(valid.toBuilder()
                .setSha256(valid.getSha256().substring(0, 31)).build()));

        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "the tampered weights were not loaded");
    }

    @Test
    void aSafetensorsHeaderLongerThanTheBoundIsRefusedBeforeItIsRead() {
        // a header that declares one byte over the bound, then holds only a few: refused on the length alone
        ByteString declared = ByteString.copyFrom(ByteBuffer.allocate(8 + 16).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(MAX_HEADER_BYTES + 1L).array());
        // a real header over the bound: one more tensor with a very long name
        Map<String, float[]> tensors = new LinkedHashMap<>(shifted(1).tensors());
        tensors.put("x".repeat(MAX_HEADER_BYTES), new float[1]);
        ByteString real = SnapshotSafetensors.encode(new WeightsSnapshot(1, tensors));

        for (ByteString bytes : List.of(declared, real)) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.loadWeights(
                    LoadWeightsRequest.newBuilder().setVersion(1).setSafetensors(bytes)
                            .setSha256(SnapshotSafetensors.sha256(bytes)).build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().startsWith("safetensors declares a header of"),
                    "description names safetensors and the header: " + e.getStatus().getDescription());
            assertTrue(e.getStatus().getDescription().contains("more than the " + MAX_HEADER_BYTES),
                    "description gives the bound: " + e.getStatus().getDescription());
        }
        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "no weights were loaded");
    }

    @Test
    void aLowerVersionAfterAHigherOneAnswersFailedPreconditionAndTheSameVersionLoadsAgain() {
        stub.loadWeights(load(shifted(3)));

        StatusRuntimeException older = assertThrows(StatusRuntimeException.class,
                () -> stub.loadWeights(load(shifted(2))));
        long again = stub.loadWeights(load(shifted(3))).getVersion();
        assertInvalid("version", () -> stub.loadWeights(load(shifted(3)).toBuilder().setVersion(-1).build()));

        assertEquals(Status.Code.FAILED_PRECONDITION, older.getStatus().getCode(), older.getStatus().toString());
        assertTrue(older.getStatus().getDescription().startsWith("version"), "description names version: "
                + older.getStatus().getDescription());
        assertEquals(3, again, "the same version again is accepted");
        assertEquals(3, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "the worker kept version 3");
    }

    @Test
    void aFreshServiceAcceptsVersionZeroAfterAnotherServiceHeldAHigherOne() throws Exception {
        stub.loadWeights(load(shifted(5)));
        stopService();
        startService(); // as a worker process does for the next coordinator: a fresh node, a fresh service

        assertEquals(0, stub.loadWeights(load(shifted(0))).getVersion(), "a new run starts again from version 0");
    }

    @Test
    void loadedWeightsGenerateWhatTheSameWeightsGenerateLocally() {
        WeightsSnapshot snapshot = shifted(7);
        List<GenerationRequest> requests = List.of(
                new GenerationRequest(tokenizer.encode("The room"), SamplingParams.sample(6, 11)),
                new GenerationRequest(tokenizer.encode("The staff was"), SamplingParams.sample(4, 12)));

        long loaded = stub.loadWeights(load(snapshot)).getVersion();
        GenerateChunkResponse response = stub.generateChunk(RolloutMessages.chunkRequest(3, requests));
        RolloutWorker.Rollout remote =
                RolloutMessages.rollout(response, 3, requests, 0, base.config().vocabSize());

        List<Completion> expected;
        try (GptModel model = new GptModel(base.copy(manager))) {
            snapshot.loadInto(model.weights());
            expected = new Generator(model, tokenizer::decode).generate(requests);
        }
        assertEquals(7, loaded);
        assertEquals(3, remote.chunk());
        assertEquals(7, remote.weightVersion(), "the chunk names the version that produced it");
        for (int i = 0; i < requests.size(); i++) {
            assertArrayEquals(expected.get(i).tokenIds(), remote.completions().get(i).tokenIds(), "tokens of " + i);
            assertArrayEquals(expected.get(i).logprobs(), remote.completions().get(i).logprobs(), 1e-6f,
                    "log-probs of " + i);
            assertEquals(expected.get(i).text(), remote.completions().get(i).text());
            assertEquals(expected.get(i).finishReason(), remote.completions().get(i).finishReason());
        }
    }

    private static GenerateChunkRequest chunk(UnaryOperator<RolloutRequest.Builder> edit) {
        GenerateChunkRequest valid = RolloutMessages.chunkRequest(0,
                List.of(new GenerationRequest(tokenizer.encode("The room"), SamplingParams.sample(3, 5))));
        return valid.toBuilder().setRequests(0, edit.apply(valid.getRequests(0).toBuilder())).build();
    }

    private static LoadWeightsRequest load(WeightsSnapshot snapshot) {
        ByteString bytes = SnapshotSafetensors.encode(snapshot);
        return LoadWeightsRequest.newBuilder()
                .setVersion(snapshot.version())
                .setSafetensors(bytes)
                .setSha256(SnapshotSafetensors.sha256(bytes))
                .build();
    }

    private static void assertInvalid(String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field), "description names " + field + ": "
                + e.getStatus().getDescription());
    }

    /** The base weights with every value moved a little, published as {@code version}. */
    private static WeightsSnapshot shifted(long version) {
        Map<String, float[]> tensors = new LinkedHashMap<>();
        WeightsSnapshot.of(base, 0).tensors().forEach((name, values) -> {
            float[] copy = values.clone();
            for (int i = 0; i < copy.length; i++) {
                copy[i] += 0.05f * ((i % 7) - 3);
            }
            tensors.put(name, copy);
        });
        return new WeightsSnapshot(version, tensors);
    }
}
