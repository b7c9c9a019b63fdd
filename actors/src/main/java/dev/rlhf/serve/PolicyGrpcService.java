package dev.rlhf.serve;

import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.TokenDecoder;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.DetokenizeRequest;
import dev.rlhf.proto.v1.DetokenizeResponse;
import dev.rlhf.proto.v1.FinishReason;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.GenerateResponse;
import dev.rlhf.proto.v1.GenerateStreamResponse;
import dev.rlhf.proto.v1.GetModelInfoRequest;
import dev.rlhf.proto.v1.ModelInfo;
import dev.rlhf.proto.v1.PolicyServiceGrpc;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.StreamEnd;
import dev.rlhf.proto.v1.TokenDelta;
import dev.rlhf.proto.v1.TokenizeRequest;
import dev.rlhf.proto.v1.TokenizeResponse;
import dev.rlhf.proto.v1.Usage;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PolicyService over a {@link GenerationScheduler}: every completion of every call shares the scheduler's running
 * batch. A call cancelled by its client or by its deadline cancels its sequences at once. Text sizes and the number
 * of stop strings are capped by {@link #fieldCaps()}, checked before a request reaches this class.
 */
final class PolicyGrpcService extends PolicyServiceGrpc.PolicyServiceImplBase {
    private final ServedModel served;
    private final GenerationScheduler scheduler;
    private final GenerateRequestReader reader;
    private final TokenDecoder decoder;
    private final ServeSettings settings;

    PolicyGrpcService(ServedModel served, GenerationScheduler scheduler, ServeSettings settings) {
        this.served = served;
        this.scheduler = scheduler;
        this.settings = settings;
        this.reader = new GenerateRequestReader(served.model().config(), served.tokenizer(),
                settings.maxNewTokensCap(), settings.nCap());
        this.decoder = served.tokenizer().<TokenDecoder>map(t -> t::decode).orElse(null);
    }

    /**
     * The caps on text checked on a request's bytes before it is parsed: a prompt's text and Tokenize's text, the
     * number of stop strings and the bytes of each.
     */
    FieldCaps fieldCaps() {
        FieldDescriptor promptText = PromptInput.getDescriptor().findFieldByNumber(PromptInput.TEXT_FIELD_NUMBER);
        FieldDescriptor tokenizeText =
                TokenizeRequest.getDescriptor().findFieldByNumber(TokenizeRequest.TEXT_FIELD_NUMBER);
        FieldDescriptor stop = GenerateRequest.getDescriptor().findFieldByNumber(GenerateRequest.STOP_FIELD_NUMBER);
        return new FieldCaps(
                Map.of(promptText, settings.maxTextBytes(), tokenizeText, settings.maxTextBytes(),
                        stop, settings.maxStopStringBytes()),
                Map.of(stop, settings.maxStopStrings()));
    }

    /** Completes every prompt n times and answers once all are done. */
    @Override
    public void generate(GenerateRequest request, StreamObserver<GenerateResponse> observer) {
        try {
            List<GenerationRequest> requests = reader.completions(request);
            int n = reader.n(request);
            UnaryAnswer answer = new UnaryAnswer(requests, n, request.getReturnLogprobs(), observer);
            submit(requests, answer.observers(), observer);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    /** Completes one prompt, sending each token as it is generated and then the end. */
    @Override
    public void generateStream(GenerateRequest request, StreamObserver<GenerateStreamResponse> observer) {
        try {
            if (request.getPromptsCount() != 1) {
                throw GenerateRequestReader.invalid(
                        "prompts must hold exactly one prompt for GenerateStream but held " + request.getPromptsCount());
            }
            if (reader.n(request) != 1) {
                throw GenerateRequestReader.invalid("n must be 1 for GenerateStream but was " + request.getN());
            }
            GenerationRequest generation = reader.completions(request).get(0);
            int longestStop = request.getStopList().stream().mapToInt(String::length).max().orElse(0);
            StreamAnswer answer = new StreamAnswer(generation.promptIds().length, request.getReturnLogprobs(),
                    new StreamingText(decoder, longestStop), observer);
            submit(List.of(generation), List.of(answer), observer);
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    /** Turns text into token ids. */
    @Override
    public void tokenize(TokenizeRequest request, StreamObserver<TokenizeResponse> observer) {
        try {
            TextTokenizer tokenizer = requireTokenizer();
            int[] ids = tokenizer.encode(request.getText());
            observer.onNext(TokenizeResponse.newBuilder().addAllTokenIds(boxed(ids)).build());
            observer.onCompleted();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    /** Turns token ids into text. */
    @Override
    public void detokenize(DetokenizeRequest request, StreamObserver<DetokenizeResponse> observer) {
        try {
            TextTokenizer tokenizer = requireTokenizer();
            reader.checkIds(request.getTokenIdsList(), "token_ids");
            String text = tokenizer.decode(request.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray());
            observer.onNext(DetokenizeResponse.newBuilder().setText(text).build());
            observer.onCompleted();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    /** Describes the model new requests are served with and the server's caps. */
    @Override
    public void getModelInfo(GetModelInfoRequest request, StreamObserver<ModelInfo> observer) {
        PolicyWeights weights = scheduler.currentWeights();
        GptConfig config = weights.model().config();
        observer.onNext(ModelInfo.newBuilder()
                .setArchitecture("gpt2")
                .setContextLength(config.contextLength())
                .setVocabSize(config.vocabSize())
                .setCheckpointId(weights.checkpointId())
                .setWeightVersion(weights.version())
                .setDModel(config.dModel())
                .setLayers(config.layers())
                .setHeads(config.heads())
                .setEosTokenId(config.eosTokenId())
                .setMaxNewTokensCap(settings.maxNewTokensCap())
                .setNCap(settings.nCap())
                .setMaxTextBytes(settings.maxTextBytes())
                .setMaxStopStrings(settings.maxStopStrings())
                .setMaxStopStringBytes(settings.maxStopStringBytes())
                .build());
        observer.onCompleted();
    }

    /** Queues the sequences and ties them to the call: its cancellation (client or deadline) cancels them. */
    private void submit(List<GenerationRequest> requests, List<? extends GenerationScheduler.Observer> observers,
            StreamObserver<?> call) {
        ServerCallStreamObserver<?> serverCall = (ServerCallStreamObserver<?>) call;
        List<GenerationScheduler.Sequence> sequences = new CopyOnWriteArrayList<>();
        serverCall.setOnCancelHandler(() -> sequences.forEach(GenerationScheduler.Sequence::cancel));
        try {
            sequences.addAll(scheduler.submitAll(requests, observers));
        } catch (RejectedExecutionException e) {
            throw Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
        }
        if (serverCall.isCancelled()) {
            sequences.forEach(GenerationScheduler.Sequence::cancel);
        }
    }

    private TextTokenizer requireTokenizer() {
        return served.tokenizer().orElseThrow(() -> Status.FAILED_PRECONDITION
                .withDescription("this server has no tokenizer: it serves token-id prompts only")
                .asRuntimeException());
    }

    private static StatusRuntimeException failure(RuntimeException cause) {
        return Status.INTERNAL.withDescription("generation failed: " + cause.getMessage()).asRuntimeException();
    }

    private static List<Integer> boxed(int[] ids) {
        List<Integer> list = new ArrayList<>(ids.length);
        for (int id : ids) {
            list.add(id);
        }
        return list;
    }

    private static List<Float> boxed(float[] values) {
        List<Float> list = new ArrayList<>(values.length);
        for (float v : values) {
            list.add(v);
        }
        return list;
    }

    private static FinishReason wire(dev.rlhf.policy.generate.FinishReason reason) {
        return switch (reason) {
            case LENGTH -> FinishReason.FINISH_REASON_LENGTH;
            case STOP -> FinishReason.FINISH_REASON_STOP;
            case EOS -> FinishReason.FINISH_REASON_EOS;
        };
    }

    /** Collects the completions of a Generate call and answers when the last one finishes. */
    private final class UnaryAnswer {
        private final List<GenerationRequest> requests;
        private final int n;
        private final StreamObserver<GenerateResponse> observer;
        private final Completion[] completions;
        private final AtomicInteger remaining;
        private final AtomicBoolean answered = new AtomicBoolean();
        private final boolean logprobs;

        UnaryAnswer(List<GenerationRequest> requests, int n, boolean logprobs,
                StreamObserver<GenerateResponse> observer) {
            this.requests = requests;
            this.n = n;
            this.observer = observer;
            this.completions = new Completion[requests.size()];
            this.remaining = new AtomicInteger(requests.size());
            this.logprobs = logprobs;
        }

        List<GenerationScheduler.Observer> observers() {
            List<GenerationScheduler.Observer> list = new ArrayList<>(completions.length);
            for (int i = 0; i < completions.length; i++) {
                int index = i;
                list.add(new GenerationScheduler.Observer() {
                    @Override
                    public void onFinished(Completion completion, PolicyWeights weights) {
                        completions[index] = completion;
                        if (remaining.decrementAndGet() == 0 && answered.compareAndSet(false, true)) {
                            observer.onNext(response(weights.version()));
                            observer.onCompleted();
                        }
                    }

                    @Override
                    public void onFailed(RuntimeException cause) {
                        if (answered.compareAndSet(false, true)) {
                            observer.onError(failure(cause));
                        }
                    }
                });
            }
            return list;
        }

        /** The answer; every completion of a call decodes with the same weights, of {@code weightVersion}. */
        private GenerateResponse response(long weightVersion) {
            GenerateResponse.Builder response = GenerateResponse.newBuilder().setWeightVersion(weightVersion);
            int promptTokens = 0;
            int completionTokens = 0;
            for (int i = 0; i < completions.length; i++) {
                Completion c = completions[i];
                dev.rlhf.proto.v1.Completion.Builder out = response.addCompletionsBuilder()
                        .setPromptIndex(i / n)
                        .setSampleIndex(i % n)
                        .setText(c.text())
                        .addAllTokenIds(boxed(c.tokenIds()))
                        .setFinishReason(wire(c.finishReason()));
                if (logprobs) {
                    out.addAllLogprobs(boxed(c.logprobs()));
                }
                promptTokens += requests.get(i).promptIds().length;
                completionTokens += c.tokenIds().length;
            }
            return response.setUsage(Usage.newBuilder()
                    .setPromptTokens(promptTokens)
                    .setCompletionTokens(completionTokens)).build();
        }
    }

    /** Sends a GenerateStream call's tokens as they come, then its end. */
    private final class StreamAnswer implements GenerationScheduler.Observer {
        private final int promptTokens;
        private final boolean logprobs;
        private final StreamingText text;
        private final StreamObserver<GenerateStreamResponse> observer;

        StreamAnswer(int promptTokens, boolean logprobs, StreamingText text,
                StreamObserver<GenerateStreamResponse> observer) {
            this.promptTokens = promptTokens;
            this.logprobs = logprobs;
            this.text = text;
            this.observer = observer;
        }

        @Override
        public void onToken(int tokenId, float logprob) {
            TokenDelta.Builder delta = TokenDelta.newBuilder().addTokenIds(tokenId).setText(text.append(tokenId));
            if (logprobs) {
                delta.addLogprobs(logprob);
            }
            observer.onNext(GenerateStreamResponse.newBuilder().setDelta(delta).build());
        }

        @Override
        public void onFinished(Completion completion, PolicyWeights weights) {
            String rest = text.finish(completion.text());
            if (!rest.isEmpty()) {
                observer.onNext(GenerateStreamResponse.newBuilder()
                        .setDelta(TokenDelta.newBuilder().setText(rest)).build());
            }
            observer.onNext(GenerateStreamResponse.newBuilder().setEnd(StreamEnd.newBuilder()
                    .setFinishReason(wire(completion.finishReason()))
                    .setUsage(Usage.newBuilder()
                            .setPromptTokens(promptTokens)
                            .setCompletionTokens(completion.tokenIds().length))
                    .setWeightVersion(weights.version())).build());
            observer.onCompleted();
        }

        @Override
        public void onFailed(RuntimeException cause) {
            observer.onError(failure(cause));
        }
    }
}
