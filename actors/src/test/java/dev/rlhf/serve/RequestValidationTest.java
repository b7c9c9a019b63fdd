package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.rlhf.proto.v1.DetokenizeRequest;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.GenerateStreamResponse;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.ModelInfo;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.TokenIds;
import dev.rlhf.proto.v1.TokenizeRequest;
import dev.rlhf.proto.v1.TokenizeResponse;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every bad request answers INVALID_ARGUMENT naming its field, and the server answers normally afterwards. */
class RequestValidationTest {
    private static final byte[] INVALID_UTF8 = RawCalls.INVALID_UTF8;
    /** Small enough that a prompt at the cap fits the tiny model's context: each token takes at least a byte. */
    private static final int MAX_TEXT_BYTES = 200;
    private static final ServeSettings SETTINGS = RunningServer.settings(8, 24, MAX_TEXT_BYTES);
    private static final int MAX_STOP_STRINGS = SETTINGS.maxStopStrings();
    private static final int MAX_STOP_STRING_BYTES = SETTINGS.maxStopStringBytes();

    @TempDir static Path dir;
    private static NDManager manager;
    private static ServedModel model;
    private RunningServer running;
    private PolicyServiceGrpc.PolicyServiceBlockingStub stub;

    @BeforeAll
    static void buildModel() throws Exception {
        manager = NDManager.newBaseManager();
        model = TinyServedModel.create(manager, dir);
    }

    @AfterAll
    static void closeModel() {
        model.close();
        manager.close();
    }

    @BeforeEach
    void startServer() throws Exception {
        running = RunningServer.start(model, SETTINGS, Optional.empty());
        stub = PolicyServiceGrpc.newBlockingStub(running.channel);
    }

    @AfterEach
    void stopServer() {
        running.close();
    }

    private static GenerateRequest valid(Consumer<GenerateRequest.Builder> change) {
        GenerateRequest.Builder request = GenerateRequest.newBuilder()
                .addPrompts(PromptInput.newBuilder().setText("The staff"))
                .setMaxNewTokens(4);
        change.accept(request);
        return request.build();
    }

    private void assertRejected(String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call, field);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), field + ": " + e.getStatus());
        assertTrue(e.getStatus().getDescription().startsWith(field),
                "the message should start with " + field + " but was: " + e.getStatus().getDescription());
        assertEquals(4, stub.generate(valid(r -> {})).getCompletions(0).getTokenIdsCount(),
                "the server answers after rejecting " + field);
    }

    private void assertGenerateRejected(String field, Consumer<GenerateRequest.Builder> change) {
        assertRejected(field, () -> stub.generate(valid(change)));
        assertRejected(field, () -> stub.generateStream(valid(change)).hasNext());
    }

    @Test
    void noPromptIsRejected() {
        assertGenerateRejected("prompts", GenerateRequest.Builder::clearPrompts);
    }

    @Test
    void emptyPromptsAreRejected() {
        assertGenerateRejected("prompts[0].text", r -> r.setPrompts(0, PromptInput.newBuilder().setText("")));
        assertGenerateRejected("prompts[0].token_ids",
                r -> r.setPrompts(0, PromptInput.newBuilder().setTokenIds(TokenIds.getDefaultInstance())));
        assertGenerateRejected("prompts[0]", r -> r.setPrompts(0, PromptInput.getDefaultInstance()));
    }

    @Test
    void promptFillingTheContextIsRejected() {
        TokenIds tooLong = TokenIds.newBuilder()
                .addAllIds(Collections.nCopies(TinyServedModel.CONTEXT, 5)).build();
        assertGenerateRejected("prompts[0]", r -> r.setPrompts(0, PromptInput.newBuilder().setTokenIds(tooLong)));
    }

    @Test
    void unknownTokenIdsAreRejected() {
        int vocab = model.model().config().vocabSize();
        assertGenerateRejected("prompts[0].token_ids[1]", r -> r.setPrompts(0, PromptInput.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addIds(1).addIds(vocab))));
        assertGenerateRejected("prompts[0].token_ids[0]", r -> r.setPrompts(0, PromptInput.newBuilder()
                .setTokenIds(TokenIds.newBuilder().addIds(-1))));
        assertRejected("token_ids[0]",
                () -> stub.detokenize(DetokenizeRequest.newBuilder().addTokenIds(vocab).build()));
    }

    @Test
    void maxNewTokensOutsideOneToTheCapIsRejected() {
        assertGenerateRejected("max_new_tokens", r -> r.setMaxNewTokens(0));
        assertGenerateRejected("max_new_tokens", r -> r.setMaxNewTokens(-3));
        assertGenerateRejected("max_new_tokens", r -> r.setMaxNewTokens(201));
    }

    @Test
    void samplingParametersOutOfRangeAreRejected() {
        assertGenerateRejected("temperature", r -> r.setTemperature(-0.5f));
        assertGenerateRejected("temperature", r -> r.setTemperature(Float.NaN));
        assertGenerateRejected("top_p", r -> r.setTopP(0f));
        assertGenerateRejected("top_p", r -> r.setTopP(1.5f));
        assertGenerateRejected("top_k", r -> r.setTopK(-1));
        assertGenerateRejected("repetition_penalty", r -> r.setRepetitionPenalty(0f));
        assertGenerateRejected("stop[0]", r -> r.addStop(""));
    }

    @Test
    void nAboveTheCapIsRejected() {
        assertRejected("n", () -> stub.generate(valid(r -> r.setN(5))));
        assertRejected("n", () -> stub.generate(valid(r -> r.setN(-1))));
        assertRejected("n", () -> stub.generateStream(valid(r -> r.setN(2))).hasNext());
    }

    @Test
    void streamingMoreThanOnePromptIsRejected() {
        assertRejected("prompts", () -> stub.generateStream(valid(r -> r.addPrompts(r.getPrompts(0)))).hasNext());
    }

    @Test
    void invalidUtf8InTextFieldsIsRejectedNamingTheField() {
        ByteString badPrompt = RawCalls.field(1, ByteString.copyFrom(INVALID_UTF8));
        ByteString request = RawCalls.field(1, badPrompt).concat(valid(r -> r.clearPrompts()).toByteString());
        assertRejected("prompts[0].text", () -> rawCall(PolicyServiceGrpc.getGenerateMethod(), request));

        ByteString badStop =
                valid(r -> {}).toByteString().concat(RawCalls.field(7, ByteString.copyFrom(INVALID_UTF8)));
        assertRejected("stop[0]", () -> rawCall(PolicyServiceGrpc.getGenerateMethod(), badStop));

        assertRejected("text", () -> rawCall(PolicyServiceGrpc.getTokenizeMethod(),
                RawCalls.field(1, ByteString.copyFrom(INVALID_UTF8))));
    }

    /** A change to the valid Generate request that brings one field to, or just over, its cap. */
    private record Capped(String field, Consumer<GenerateRequest.Builder> change) {
        @Override
        public String toString() {
            return field;
        }
    }

    /** Each cap on a Generate request, just broken; the rejection must name the field. */
    static Stream<Capped> generateRequestsOverACap() {
        String text = utf8OfBytes(MAX_TEXT_BYTES + 1);
        return Stream.of(
                new Capped("prompts[0].text", r -> r.setPrompts(0, PromptInput.newBuilder().setText(text))),
                new Capped("prompts[1].text", r -> r.addPrompts(PromptInput.newBuilder().setText(text))),
                new Capped("stop", r -> r.addAllStop(Collections.nCopies(MAX_STOP_STRINGS + 1, "zz"))),
                new Capped("stop[3]", r -> r.addAllStop(List.of("a", "b", "c",
                        utf8OfBytes(MAX_STOP_STRING_BYTES + 1)))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("generateRequestsOverACap")
    void generateRequestsOverACapAreRejectedNamingTheField(Capped over) {
        assertGenerateRejected(over.field(), over.change());
    }

    /** Each cap on a Generate request, just met. */
    static Stream<Capped> generateRequestsAtEachCap() {
        return Stream.of(
                new Capped("prompts[0].text",
                        r -> r.setPrompts(0, PromptInput.newBuilder().setText(utf8OfBytes(MAX_TEXT_BYTES)))),
                new Capped("stop", r -> r.addAllStop(
                        Collections.nCopies(MAX_STOP_STRINGS, utf8OfBytes(MAX_STOP_STRING_BYTES)))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("generateRequestsAtEachCap")
    void generateRequestsAtEachCapAreAnswered(Capped at) {
        GenerateRequest request = valid(at.change());

        int generated = stub.generate(request).getCompletions(0).getTokenIdsCount();
        int streamed = streamedTokens(request);

        assertEquals(4, generated, "Generate with " + at + " at its cap");
        assertEquals(4, streamed, "GenerateStream with " + at + " at its cap");
    }

    @Test
    void tokenizeTextIsCappedInBytes() {
        int atCap = stub.tokenize(tokenize(utf8OfBytes(MAX_TEXT_BYTES))).getTokenIdsCount();

        assertTrue(atCap > 0, "text of exactly " + MAX_TEXT_BYTES + " bytes is tokenized");
        assertRejected("text", () -> stub.tokenize(tokenize(utf8OfBytes(MAX_TEXT_BYTES + 1))));
    }

    @Test
    void modelInfoStatesTheCaps() {
        ModelInfo info = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());

        assertEquals(MAX_TEXT_BYTES, info.getMaxTextBytes());
        assertEquals(MAX_STOP_STRINGS, info.getMaxStopStrings());
        assertEquals(MAX_STOP_STRING_BYTES, info.getMaxStopStringBytes());
    }

    /**
     * Text of {@code bytes} bytes of UTF-8 in about half as many characters, so a cap counted in characters would
     * let it through.
     */
    private static String utf8OfBytes(int bytes) {
        String text = "é".repeat(bytes / 2) + "x".repeat(bytes % 2);
        assertEquals(bytes, text.getBytes(StandardCharsets.UTF_8).length, "test text size");
        return text;
    }

    private static TokenizeRequest tokenize(String text) {
        return TokenizeRequest.newBuilder().setText(text).build();
    }

    private int streamedTokens(GenerateRequest request) {
        int tokens = 0;
        for (Iterator<GenerateStreamResponse> responses = stub.generateStream(request); responses.hasNext();) {
            tokens += responses.next().getDelta().getTokenIdsCount();
        }
        return tokens;
    }

    /** Calls {@code method} with request bytes no generated builder would produce. */
    private <R> R rawCall(MethodDescriptor<?, R> method, ByteString request) {
        return RawCalls.call(running.channel, method, request);
    }

    @Test
    void rawCallsOfValidBytesAreAnswered() {
        TokenizeResponse response = rawCall(PolicyServiceGrpc.getTokenizeMethod(),
                RawCalls.field(1, ByteString.copyFromUtf8("The staff")));
        assertTrue(response.getTokenIdsCount() > 0, "the raw-bytes client works for a valid request");
    }
}
