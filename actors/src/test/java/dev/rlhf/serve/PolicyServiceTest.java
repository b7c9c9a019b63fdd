package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.rlhf.proto.v1.Completion;
import dev.rlhf.proto.v1.DetokenizeRequest;
import dev.rlhf.proto.v1.FinishReason;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.GenerateResponse;
import dev.rlhf.proto.v1.GenerateStreamResponse;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.ModelInfo;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.TokenIds;
import dev.rlhf.proto.v1.TokenizeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PolicyService over a real loopback socket: generation, streaming, cancellation, deadlines, the queue cap. */
class PolicyServiceTest {
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
    void stopServer() throws Exception {
        running.close();
    }

    static GenerateRequest.Builder textRequest(String text, int maxNewTokens) {
        return GenerateRequest.newBuilder()
                .addPrompts(PromptInput.newBuilder().setText(text))
                .setMaxNewTokens(maxNewTokens);
    }

    @Test
    void streamedTokensConcatenateToTheUnaryCompletionWithTheSameSeed() {
        GenerateResponse unary = stub.generate(
                textRequest("Review of the café in Oslo:", 40).setSeed(7).setN(2).setReturnLogprobs(true).build());

        List<Integer> streamedIds = new ArrayList<>();
        StringBuilder streamedText = new StringBuilder();
        GenerateStreamResponse end = null;
        Iterator<GenerateStreamResponse> stream =
                stub.generateStream(textRequest("Review of the café in Oslo:", 40).setSeed(8).build());
        while (stream.hasNext()) {
            GenerateStreamResponse message = stream.next();
            if (message.hasEnd()) {
                end = message;
            } else {
                streamedIds.addAll(message.getDelta().getTokenIdsList());
                streamedText.append(message.getDelta().getText());
            }
        }

        assertEquals(2, unary.getCompletionsCount());
        Completion second = unary.getCompletions(1);
        assertEquals(1, second.getSampleIndex());
        assertEquals(40, second.getLogprobsCount(), "one log-prob per token when asked");
        assertEquals(second.getTokenIdsList(), streamedIds, "completion 1 of seed 7 is the stream of seed 8");
        assertEquals(second.getText(), streamedText.toString(), "streamed text pieces concatenate to the text");
        assertTrue(end != null && end.getEnd().getFinishReason() == FinishReason.FINISH_REASON_LENGTH,
                "the stream ends with its finish reason: " + end);
        assertEquals(40, end.getEnd().getUsage().getCompletionTokens());
        assertEquals(80, unary.getUsage().getCompletionTokens());
    }

    @Test
    void tokenIdPromptsAndTextPromptsGiveTheSameCompletion() {
        List<Integer> ids = stub.tokenize(TokenizeRequest.newBuilder().setText("Naïve café").build())
                .getTokenIdsList();
        GenerateRequest byIds = GenerateRequest.newBuilder()
                .addPrompts(PromptInput.newBuilder().setTokenIds(TokenIds.newBuilder().addAllIds(ids)))
                .setMaxNewTokens(12).setSeed(3).build();

        Completion fromIds = stub.generate(byIds).getCompletions(0);
        Completion fromText = stub.generate(textRequest("Naïve café", 12).setSeed(3).build()).getCompletions(0);

        assertEquals(fromText.getTokenIdsList(), fromIds.getTokenIdsList());
        assertEquals("Naïve café", stub.detokenize(DetokenizeRequest.newBuilder().addAllTokenIds(ids).build())
                .getText());
    }

    @Test
    void modelInfoDescribesTheServedModel() {
        ModelInfo info = stub.getModelInfo(GetModelInfoRequest.getDefaultInstance());

        assertEquals("gpt2", info.getArchitecture());
        assertEquals(TinyServedModel.CONTEXT, info.getContextLength());
        assertEquals(model.model().config().vocabSize(), info.getVocabSize());
        assertEquals("tiny-random@test", info.getCheckpointId());
        assertEquals(1, info.getWeightVersion());
        assertEquals(200, info.getMaxNewTokensCap());
    }

    @Test
    void cancellingAStreamMidwayFreesItsBatchRow() throws Exception {
        AtomicInteger deltas = new AtomicInteger();
        CompletableFuture<Status> closed = new CompletableFuture<>();
        PolicyServiceGrpc.newStub(running.channel).generateStream(textRequest("The staff", 200).build(),
                new ClientResponseObserver<GenerateRequest, GenerateStreamResponse>() {
                    private ClientCallStreamObserver<GenerateRequest> call;

                    @Override
                    public void beforeStart(ClientCallStreamObserver<GenerateRequest> requestStream) {
                        call = requestStream;
                    }

                    @Override
                    public void onNext(GenerateStreamResponse value) {
                        if (deltas.incrementAndGet() == 3) {
                            call.cancel("client lost interest", null);
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        closed.complete(Status.fromThrowable(t));
                    }

                    @Override
                    public void onCompleted() {
                        closed.complete(Status.OK);
                    }
                });

        assertEquals(Status.Code.CANCELLED, closed.get(5, TimeUnit.SECONDS).getCode());
        assertEquals(0, RunningServer.awaitZero(running.server::inFlightSequences), "sequences in flight");
        assertEquals(0, RunningServer.awaitZero(running.server::runningSequences), "rows in the running batch");
        assertTrue(deltas.get() < 200, "the stream stopped early: " + deltas.get() + " deltas of 200");
        assertEquals(3, stub.generate(textRequest("The staff", 3).build()).getCompletions(0).getTokenIdsCount(),
                "the server answers after the cancellation");
    }

    @Test
    void deadlineExceededCancelsTheSequences() throws Exception {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(30, TimeUnit.MILLISECONDS)
                        .generate(textRequest("The staff", 200).setN(4).build()));

        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertEquals(0, RunningServer.awaitZero(running.server::inFlightSequences), "sequences in flight");
        assertEquals(0, RunningServer.awaitZero(running.server::runningSequences), "rows in the running batch");
    }

    @Test
    void aRequestBeyondTheQueueAnswersResourceExhausted() throws Exception {
        try (RunningServer small = RunningServer.start(model, RunningServer.settings(1, 2), Optional.empty())) {
            PolicyServiceGrpc.PolicyServiceBlockingStub smallStub = PolicyServiceGrpc.newBlockingStub(small.channel);

            StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                    () -> smallStub.generate(textRequest("The staff", 5).setN(4).build()));

            assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode());
            assertEquals(3, smallStub.generate(textRequest("The staff", 5).setN(3).build()).getCompletionsCount(),
                    "three sequences fit one row plus a queue of two");
        }
    }

    @Test
    void streamedTextOfMultiByteCharactersMatchesTheUnaryText() {
        String unary = stub.generate(textRequest("日本語の", 60).setSeed(11).build()).getCompletions(0).getText();

        StringBuilder streamed = new StringBuilder();
        Iterator<GenerateStreamResponse> stream = stub.generateStream(textRequest("日本語の", 60).setSeed(11).build());
        while (stream.hasNext()) {
            String piece = stream.next().getDelta().getText();
            streamed.append(piece);
            assertTrue(unary.startsWith(streamed.toString()),
                    "every piece must be final text, but after \"" + piece + "\" the stream reads \"" + streamed
                            + "\" and the completion \"" + unary + "\"");
        }

        assertEquals(unary, streamed.toString());
    }
}
