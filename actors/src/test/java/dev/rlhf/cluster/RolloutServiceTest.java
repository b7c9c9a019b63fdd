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
import dev.rlhf.proto.v1.HeldWeightsRequest;
import dev.rlhf.proto.v1.RolloutRequest;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import dev.rlhf.proto.v1.WeightChunk;
import dev.rlhf.proto.v1.WeightSyncStatus;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
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
 * RolloutService in front of a real rollout worker: every bad field answers INVALID_ARGUMENT naming it, a weight
 * chunk damaged on the way is rejected and sent again, a synced version is bit-identical to the one sent and
 * generates exactly what the same weights generate in this JVM.
 */
class RolloutServiceTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    /** Room for the test policy's header (about 100 bytes a tensor), far below the default 1 MiB. */
    private static final int MAX_HEADER_BYTES = 16 * 1024;
    /** Small chunks, so the test policy's weights travel in several. */
    private static final int CHUNK_BYTES = 4096;
    private static final long MAX_WEIGHTS_BYTES = 1 << 20;
    /** The digest of a file that is not the test's weights. */
    private static final ByteString OTHER_DIGEST = VersionChunks.sha256(ByteString.copyFromUtf8("other weights"));
    @TempDir static Path dir;
    private static NDManager manager;
    private static TextTokenizer tokenizer;
    private static GptWeights base;

    private Server server;
    private String serverName;
    private WeightsBoard board;
    private ManagedChannel channel;
    private RolloutServiceGrpc.RolloutServiceBlockingStub stub;
    private RolloutServiceGrpc.RolloutServiceStub asyncStub;

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
        board = new WeightsBoard(WeightsSnapshot.of(base, 0));
        ActorRef<RolloutWorker.Command> worker = TESTKIT.spawn(
                RolloutWorker.create(0, LocalPolicyReplica.factory(base, tokenizer, board, manager)));
        serverName = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(serverName).directExecutor()
                .addService(new RolloutGrpcService(worker, board, base.config(), MAX_WEIGHTS_BYTES, MAX_HEADER_BYTES,
                        TESTKIT.scheduler(), Duration.ofSeconds(30)))
                .build().start();
        channel = InProcessChannelBuilder.forName(serverName).directExecutor().build();
        stub = RolloutServiceGrpc.newBlockingStub(channel);
        asyncStub = RolloutServiceGrpc.newStub(channel);
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
    void badWeightChunksAnswerInvalidArgumentNamingTheField() {
        List<WeightChunk> chunks = chunks(shifted(1)).chunks();
        WeightChunk first = chunks.get(0);
        WeightChunk last = chunks.get(chunks.size() - 1);

        assertInvalid("version", () -> send(first.toBuilder().setVersion(-1).build()));
        assertInvalid("version_sha256", () -> send(first.toBuilder().setVersionSha256(ByteString.EMPTY).build()));
        assertInvalid("total_bytes", () -> send(first.toBuilder().setTotalBytes(0).build()));
        assertInvalid("total_bytes", () -> send(first.toBuilder().setTotalBytes(MAX_WEIGHTS_BYTES + 1).build()));
        assertInvalid("chunk_bytes", () -> send(first.toBuilder().setChunkBytes(0).build()));
        assertInvalid("index", () -> send(first.toBuilder().setIndex(chunks.size()).build()));
        assertInvalid("index", () -> send(first.toBuilder().setIndex(-1).build()));
        assertInvalid("data", () -> send(last.toBuilder().setData(first.getData()).build()));
        assertInvalid("sha256", () -> send(first.toBuilder().setSha256(first.getSha256().substring(0, 31)).build()));
        assertInvalid("version", () -> send(first, chunks.get(1).toBuilder().setVersion(2).build()));
        assertInvalid("version_sha256", () -> send(first, chunks.get(1).toBuilder()
                .setVersionSha256(OTHER_DIGEST).build()));
        assertInvalid("chunks", () -> send());

        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "no weights were loaded");
    }

    @Test
    void aVersionWhoseFileIsNotThePolicysAnswersInvalidArgumentNamingData() {
        Map<String, float[]> missing = new LinkedHashMap<>(shifted(1).tensors());
        missing.remove("ln_f.bias");
        Map<String, float[]> resized = new LinkedHashMap<>(shifted(1).tensors());
        resized.put("ln_f.bias", new float[3]);
        ByteString garbage = ByteString.copyFromUtf8("not a safetensors file");

        assertInvalid("data: the version's safetensors file must hold tensor ln_f.bias",
                () -> sync(chunks(new WeightsSnapshot(1, missing))));
        assertInvalid("data: the version's safetensors file must hold tensor ln_f.bias",
                () -> sync(chunks(new WeightsSnapshot(1, resized))));
        assertInvalid("data: the version's safetensors file", () -> sync(VersionChunks.of(1, garbage, CHUNK_BYTES)));

        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "the bad weights were not loaded");
    }

    @Test
    void aChunkWhoseBytesDoNotMatchItsDigestIsRejectedAndTheOthersAreKept() {
        VersionChunks version = chunks(shifted(1));
        List<WeightChunk> sent = new ArrayList<>(version.chunks());
        WeightChunk damaged = sent.get(1);
        byte[] bytes = damaged.getData().toByteArray();
        bytes[bytes.length - 1] ^= 0x01;
        sent.set(1, damaged.toBuilder().setData(ByteString.copyFrom(bytes)).build());

        WeightSyncStatus afterDamage = send(sent.toArray(WeightChunk[]::new));
        long meanwhile = stub.generateChunk(chunk(r -> r)).getWeightVersion();
        WeightSyncStatus afterResend = send(version.chunks().get(1));

        assertEquals(1, afterDamage.getRejectedChunks());
        assertEquals(List.of(1), afterDamage.getMissingChunksList(), "only the damaged chunk is missing");
        assertEquals(1, afterDamage.getPendingVersion());
        assertEquals(-1, afterDamage.getVersion(), "nothing applied yet");
        assertEquals(0, meanwhile, "the worker kept its weights meanwhile");
        assertEquals(1, afterResend.getVersion(), "the missing chunk alone completed the version");
        assertEquals(version.sha256(), afterResend.getSha256());
        assertEquals(-1, afterResend.getPendingVersion());
        assertBitIdentical(shifted(1), board.latest().inProcess());
    }

    @Test
    void aChunkDamagedOnTheWayIsFetchedAgainAndTheWorkerHoldsTheVersionBitForBit() throws Exception {
        AtomicInteger damaged = new AtomicInteger();
        ManagedChannel damaging = InProcessChannelBuilder.forName(serverName).directExecutor()
                .intercept(damagingChunkOnce(2, damaged)).build();
        try {
            VersionChunks version = chunks(shifted(4));
            WeightSyncStatus status = WeightsSender.sync(RolloutServiceGrpc.newStub(damaging)::syncWeights,
                    version, 3, "test worker").get(30, TimeUnit.SECONDS);

            assertEquals(1, damaged.get(), "the interceptor damaged one chunk in flight");
            assertEquals(4, status.getVersion());
            assertEquals(version.sha256(), status.getSha256());
            assertBitIdentical(shifted(4), board.latest().inProcess());
            WeightSyncStatus held = stub.heldWeights(HeldWeightsRequest.getDefaultInstance());
            assertEquals(4, held.getVersion(), "the worker answers the version it holds");
            assertEquals(version.sha256(), held.getSha256());
            assertEquals(4, stub.generateChunk(chunk(r -> r)).getWeightVersion());
        } finally {
            damaging.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFileThatDoesNotMatchTheVersionsDigestIsNotAppliedAndEveryChunkIsMissingAgain() {
        VersionChunks version = chunks(shifted(1));
        WeightChunk[] relabelled = version.chunks().stream()
                .map(c -> c.toBuilder().setVersionSha256(OTHER_DIGEST).build()).toArray(WeightChunk[]::new);

        WeightSyncStatus status = send(relabelled);

        assertEquals(-1, status.getVersion(), "not applied");
        assertEquals(version.chunks().size(), status.getMissingChunksCount(), "every chunk is to be sent again");
        assertEquals(0, status.getRejectedChunks(), "each chunk matched its own digest");
        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion());
    }

    @Test
    void senderGivesUpNamingTheMissingChunksWhenEveryAttemptIsDamaged() throws Exception {
        AtomicInteger damaged = new AtomicInteger();
        ManagedChannel damaging = InProcessChannelBuilder.forName(serverName).directExecutor()
                .intercept(damagingChunkAlways(0, damaged)).build();
        try {
            ExecutionException e = assertThrows(ExecutionException.class, () -> WeightsSender.sync(
                    RolloutServiceGrpc.newStub(damaging)::syncWeights, chunks(shifted(1)), 3, "test worker")
                    .get(30, TimeUnit.SECONDS));

            assertEquals(3, damaged.get(), "three calls, each damaging chunk 0");
            assertTrue(e.getCause().getMessage().contains("test worker still misses 1 of the"),
                    e.getCause().getMessage());
            assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion());
        } finally {
            damaging.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
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
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> sync(VersionChunks.of(1, bytes, CHUNK_BYTES)));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
            assertTrue(e.getStatus().getDescription().startsWith("data: the version's safetensors file declares a "
                    + "header of"), "description names data and the header: " + e.getStatus().getDescription());
            assertTrue(e.getStatus().getDescription().contains("more than the " + MAX_HEADER_BYTES),
                    "description gives the bound: " + e.getStatus().getDescription());
        }
        assertEquals(0, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "no weights were loaded");
    }

    @Test
    void aLowerVersionAfterAHigherOneAnswersFailedPreconditionAndTheSameVersionLoadsAgain() {
        sync(chunks(shifted(3)));

        StatusRuntimeException older = assertThrows(StatusRuntimeException.class, () -> sync(chunks(shifted(2))));
        long again = sync(chunks(shifted(3))).getVersion();

        assertEquals(Status.Code.FAILED_PRECONDITION, older.getStatus().getCode(), older.getStatus().toString());
        assertTrue(older.getStatus().getDescription().startsWith("version"), "description names version: "
                + older.getStatus().getDescription());
        assertEquals(3, again, "the same version again is accepted");
        assertEquals(3, stub.generateChunk(chunk(r -> r)).getWeightVersion(), "the worker kept version 3");
    }

    @Test
    void chunksOfAnOlderVersionThanTheOneBeingGatheredAreStaleAndRefused() {
        send(chunks(shifted(5)).chunks().get(0)); // v5 partly gathered

        StatusRuntimeException stale = assertThrows(StatusRuntimeException.class,
                () -> send(chunks(shifted(4)).chunks().get(1)));
        WeightSyncStatus held = stub.heldWeights(HeldWeightsRequest.getDefaultInstance());

        assertEquals(Status.Code.FAILED_PRECONDITION, stale.getStatus().getCode(), stale.getStatus().toString());
        assertEquals(5, held.getPendingVersion(), "the newer version's chunks are kept");
        assertEquals(chunks(shifted(5)).chunks().size() - 1, held.getMissingChunksCount());
    }

    @Test
    void aFreshServiceAcceptsVersionZeroAfterAnotherServiceHeldAHigherOne() throws Exception {
        sync(chunks(shifted(5)));
        stopService();
        startService(); // as a worker process does for the next coordinator: a fresh node, a fresh service

        assertEquals(0, sync(chunks(shifted(0))).getVersion(), "a new run starts again from version 0");
    }

    @Test
    void loadedWeightsGenerateWhatTheSameWeightsGenerateLocally() {
        WeightsSnapshot snapshot = shifted(7);
        List<GenerationRequest> requests = List.of(
                new GenerationRequest(tokenizer.encode("The room"), SamplingParams.sample(6, 11)),
                new GenerationRequest(tokenizer.encode("The staff was"), SamplingParams.sample(4, 12)));

        long loaded = sync(chunks(snapshot)).getVersion();
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

    private static VersionChunks chunks(WeightsSnapshot snapshot) {
        return VersionChunks.of(snapshot.version(), SnapshotSafetensors.encode(snapshot), CHUNK_BYTES);
    }

    /** Sends every chunk of {@code version}, and again those missing, as the coordinator does. */
    private WeightSyncStatus sync(VersionChunks version) {
        return answer(WeightsSender.sync(asyncStub::syncWeights, version, 3, "test worker"));
    }

    /** One SyncWeights call with exactly {@code chunks}. */
    private WeightSyncStatus send(WeightChunk... chunks) {
        UnaryAnswer<WeightSyncStatus> answered = new UnaryAnswer<>();
        StreamObserver<WeightChunk> requests = asyncStub.syncWeights(answered);
        for (WeightChunk chunk : chunks) {
            requests.onNext(chunk);
        }
        requests.onCompleted();
        return answer(answered.future());
    }

    private static WeightSyncStatus answer(CompletableFuture<WeightSyncStatus> call) {
        try {
            return call.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Flips a bit of the chunk with {@code index} in the first call that sends it; counts what it damaged. */
    private static ClientInterceptor damagingChunkOnce(int index, AtomicInteger damaged) {
        return damaging(index, damaged, true);
    }

    /** Flips a bit of the chunk with {@code index} whenever it is sent. */
    private static ClientInterceptor damagingChunkAlways(int index, AtomicInteger damaged) {
        return damaging(index, damaged, false);
    }

    private static ClientInterceptor damaging(int index, AtomicInteger damaged, boolean once) {
        return new ClientInterceptor() {
            @Override
            public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options,
                    Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    @SuppressWarnings("unchecked")
                    public void sendMessage(Q message) {
                        if (message instanceof WeightChunk chunk && chunk.getIndex() == index
                                && (!once || damaged.get() == 0)) {
                            damaged.incrementAndGet();
                            byte[] bytes = chunk.getData().toByteArray();
                            bytes[0] ^= 0x40;
                            message = (Q) chunk.toBuilder().setData(ByteString.copyFrom(bytes)).build();
                        }
                        super.sendMessage(message);
                    }
                };
            }
        };
    }

    private static void assertBitIdentical(WeightsSnapshot expected, WeightsSnapshot actual) {
        assertEquals(expected.version(), actual.version());
        assertEquals(expected.tensors().keySet(), actual.tensors().keySet());
        expected.tensors().forEach((name, values) -> {
            float[] got = actual.tensors().get(name);
            assertEquals(values.length, got.length, name);
            for (int i = 0; i < values.length; i++) {
                assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(got[i]), name + "[" + i + "]");
            }
        });
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
