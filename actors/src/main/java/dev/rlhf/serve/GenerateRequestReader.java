package dev.rlhf.serve;

import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.PromptInput;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Checks a {@link GenerateRequest} against the served model and the server's caps and turns it into engine
 * requests. A bad field answers {@code INVALID_ARGUMENT} whose description starts with the field's name; text
 * where the server has no tokenizer answers {@code FAILED_PRECONDITION}. The sizes of text and stop strings were
 * checked before the request was parsed ({@link PolicyGrpcService#fieldCaps()}).
 */
final class GenerateRequestReader {
    private final GptConfig config;
    private final Optional<TextTokenizer> tokenizer;
    private final int maxNewTokensCap;
    private final int nCap;

    GenerateRequestReader(GptConfig config, Optional<TextTokenizer> tokenizer, int maxNewTokensCap, int nCap) {
        this.config = config;
        this.tokenizer = tokenizer;
        this.maxNewTokensCap = maxNewTokensCap;
        this.nCap = nCap;
    }

    /** The prompts in request order, as token ids. */
    List<int[]> prompts(GenerateRequest request) {
        if (request.getPromptsCount() == 0) {
            throw invalid("prompts must hold at least one prompt");
        }
        List<int[]> prompts = new ArrayList<>(request.getPromptsCount());
        for (int i = 0; i < request.getPromptsCount(); i++) {
            prompts.add(prompt(request.getPrompts(i), "prompts[" + i + "]"));
        }
        return prompts;
    }

    /** Completions per prompt: 1 when unset. */
    int n(GenerateRequest request) {
        if (request.getN() < 0 || request.getN() > nCap) {
            throw invalid("n must be in [1, " + nCap + "] (0 means 1) but was " + request.getN());
        }
        return Math.max(1, request.getN());
    }

    /** The sampling parameters of the request's first completion (completion i adds i to the seed). */
    SamplingParams params(GenerateRequest request) {
        if (request.getMaxNewTokens() <= 0 || request.getMaxNewTokens() > maxNewTokensCap) {
            throw invalid("max_new_tokens must be in [1, " + maxNewTokensCap + "] but was "
                    + request.getMaxNewTokens());
        }
        float temperature = request.hasTemperature() ? request.getTemperature() : 1f;
        if (!(temperature >= 0) || Float.isInfinite(temperature)) {
            throw invalid("temperature must be a finite number >= 0 but was " + temperature);
        }
        if (request.getTopK() < 0) {
            throw invalid("top_k must be >= 0 but was " + request.getTopK());
        }
        float topP = request.hasTopP() ? request.getTopP() : 1f;
        if (!(topP > 0 && topP <= 1)) {
            throw invalid("top_p must be in (0, 1] but was " + topP);
        }
        float penalty = request.hasRepetitionPenalty() ? request.getRepetitionPenalty() : 1f;
        if (!(penalty > 0) || Float.isInfinite(penalty)) {
            throw invalid("repetition_penalty must be a finite number > 0 but was " + penalty);
        }
        for (int i = 0; i < request.getStopCount(); i++) {
            if (request.getStop(i).isEmpty()) {
                throw invalid("stop[" + i + "] must not be empty");
            }
        }
        if (request.getStopCount() > 0 && tokenizer.isEmpty()) {
            throw noTokenizer("stop strings");
        }
        long seed = request.hasSeed() ? request.getSeed() : ThreadLocalRandom.current().nextLong();
        return new SamplingParams(temperature, request.getTopK(), topP, request.getMaxNewTokens(), penalty, Set.of(),
                request.getStopList(), seed);
    }

    /** Every completion the request asks for: prompt-major, then sample index, completion i seeded seed + i. */
    List<GenerationRequest> completions(GenerateRequest request) {
        List<int[]> prompts = prompts(request);
        int n = n(request);
        SamplingParams params = params(request);
        List<GenerationRequest> out = new ArrayList<>(prompts.size() * n);
        for (int[] prompt : prompts) {
            for (int i = 0; i < n; i++) {
                out.add(new GenerationRequest(prompt, params.withSeed(params.seed() + i)));
            }
        }
        return out;
    }

    /** Token ids of {@code text}, which must not be empty. */
    int[] encode(String text, String field) {
        if (text.isEmpty()) {
            throw invalid(field + " must not be empty");
        }
        return tokenizer.orElseThrow(() -> noTokenizer(field)).encode(text);
    }

    /** Checks every id lies in the vocabulary. */
    void checkIds(List<Integer> ids, String field) {
        for (int j = 0; j < ids.size(); j++) {
            int id = ids.get(j);
            if (id < 0 || id >= config.vocabSize()) {
                throw invalid(field + "[" + j + "] = " + id + " is not in the vocabulary [0, " + config.vocabSize()
                        + ")");
            }
        }
    }

    private int[] prompt(PromptInput input, String field) {
        int[] ids = switch (input.getPromptCase()) {
            case TEXT -> encode(input.getText(), field + ".text");
            case TOKEN_IDS -> {
                List<Integer> list = input.getTokenIds().getIdsList();
                if (list.isEmpty()) {
                    throw invalid(field + ".token_ids must not be empty");
                }
                checkIds(list, field + ".token_ids");
                yield list.stream().mapToInt(Integer::intValue).toArray();
            }
            case PROMPT_NOT_SET -> throw invalid(field + " must set text or token_ids");
        };
        if (ids.length == 0) {
            throw invalid(field + " must not be empty");
        }
        if (ids.length >= config.contextLength()) {
            throw invalid(field + " has " + ids.length + " tokens, which leaves no room to generate in the context of "
                    + config.contextLength());
        }
        return ids;
    }

    static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }

    private static StatusRuntimeException noTokenizer(String what) {
        return Status.FAILED_PRECONDITION
                .withDescription(what + " needs a tokenizer, and this server has none: send token_ids")
                .asRuntimeException();
    }
}
