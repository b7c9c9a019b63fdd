package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.protobuf.ByteString;
import dev.rlhf.proto.v1.DetokenizeRequest;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.TokenIds;
import dev.rlhf.proto.v1.TokenizeResponse;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** Every bad request answers INVALID_ARGUMENT naming its field, and the server answers normally afterwards. */
class RequestValidationTest {
    private static final byte[] INVALID_UTF8 = RawCalls.INVALID_UTF8;

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
        running = RunningServer.start(model);
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
