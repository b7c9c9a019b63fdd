package dev.rlhf.cluster;

import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.RolloutCompletion;
import dev.rlhf.proto.v1.RolloutRequest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * RolloutService messages from and to the rollout worker's own types. Requests a worker receives are checked by
 * {@link ChunkRequestReader} instead.
 */
final class RolloutMessages {
    private RolloutMessages() {}

    static GenerateChunkRequest chunkRequest(int chunk, List<GenerationRequest> requests) {
        GenerateChunkRequest.Builder builder = GenerateChunkRequest.newBuilder().setChunk(chunk);
        for (GenerationRequest request : requests) {
            builder.addRequests(RolloutRequest.newBuilder()
                    .addAllPromptTokenIds(boxed(request.promptIds()))
                    .setSampling(sampling(request.params())));
        }
        return builder.build();
    }

    static GenerateChunkResponse chunkResponse(RolloutWorker.Rollout rollout) {
        GenerateChunkResponse.Builder builder = GenerateChunkResponse.newBuilder()
                .setChunk(rollout.chunk())
                .setWeightVersion(rollout.weightVersion())
                .setSeconds(rollout.seconds());
        for (Completion completion : rollout.completions()) {
            builder.addCompletions(completion(completion));
        }
        return builder.build();
    }

    static RolloutCompletion completion(Completion completion) {
        RolloutCompletion.Builder c = RolloutCompletion.newBuilder()
                .addAllTokenIds(boxed(completion.tokenIds()))
                .setFinishReason(finishReason(completion.finishReason()))
                .setText(completion.text());
        for (float logprob : completion.logprobs()) {
            c.addLogprobs(logprob);
        }
        return c.build();
    }

    /**
     * The rollout a worker answered to {@code requests}, attributed to the coordinator's id {@code worker} for it,
     * checked like any input from outside: the chunk id echoed, a weight version >= 0, one completion per request,
     * each with 1 to max_new_tokens token ids of the policy's vocabulary, one finite log-probability <= 0 per token
     * and a finish reason. (Protobuf has already refused text that is not UTF-8: the call itself failed.)
     *
     * @param vocabSize the size of the policy's vocabulary
     * @throws IllegalArgumentException whose message starts with the offending field, e.g.
     *     {@code completions[3].token_ids[7]}
     */
    static RolloutWorker.Rollout rollout(GenerateChunkResponse response, int chunk, List<GenerationRequest> requests,
            int worker, int vocabSize) {
        if (response.getChunk() != chunk) {
            throw new IllegalArgumentException("chunk is " + response.getChunk() + ", not the requested " + chunk);
        }
        if (response.getWeightVersion() < 0) {
            throw new IllegalArgumentException("weight_version must not be negative but was "
                    + response.getWeightVersion());
        }
        if (!(response.getSeconds() >= 0) || Double.isInfinite(response.getSeconds())) {
            throw new IllegalArgumentException("seconds must be a finite number >= 0 but was "
                    + response.getSeconds());
        }
        if (response.getCompletionsCount() != requests.size()) {
            throw new IllegalArgumentException("completions holds " + response.getCompletionsCount()
                    + " completions for " + requests.size() + " requests");
        }
        List<Completion> completions = new ArrayList<>(response.getCompletionsCount());
        for (int i = 0; i < response.getCompletionsCount(); i++) {
            completions.add(completion(response.getCompletions(i), "completions[" + i + "]",
                    requests.get(i).params().maxNewTokens(), vocabSize));
        }
        return new RolloutWorker.Rollout(response.getChunk(), worker, response.getWeightVersion(), completions,
                response.getSeconds());
    }

    /**
     * A completion checked as {@link #rollout} checks each.
     *
     * @throws IllegalArgumentException whose message starts with {@code field} and the offending part of it
     */
    static Completion completion(RolloutCompletion c, String field, int maxNewTokens, int vocabSize) {
        int count = c.getTokenIdsCount();
        if (count == 0 || count > maxNewTokens) {
            throw new IllegalArgumentException(field + ".token_ids holds " + count
                    + " tokens, not 1 to the requested max_new_tokens " + maxNewTokens);
        }
        int[] tokenIds = new int[count];
        for (int j = 0; j < count; j++) {
            tokenIds[j] = c.getTokenIds(j);
            if (tokenIds[j] < 0 || tokenIds[j] >= vocabSize) {
                throw new IllegalArgumentException(field + ".token_ids[" + j + "] = " + tokenIds[j]
                        + " is not in the vocabulary [0, " + vocabSize + ")");
            }
        }
        if (c.getLogprobsCount() != count) {
            throw new IllegalArgumentException(field + ".logprobs holds " + c.getLogprobsCount() + " values for "
                    + count + " tokens");
        }
        float[] logprobs = new float[count];
        for (int j = 0; j < count; j++) {
            logprobs[j] = c.getLogprobs(j);
            if (!(logprobs[j] <= 0) || Float.isInfinite(logprobs[j])) {
                throw new IllegalArgumentException(field + ".logprobs[" + j + "] must be a finite number <= 0 but was "
                        + logprobs[j]);
            }
        }
        return new Completion(tokenIds, logprobs, finishReason(c.getFinishReason(), field + ".finish_reason"),
                c.getText());
    }

    static dev.rlhf.proto.v1.SamplingParams sampling(SamplingParams params) {
        return dev.rlhf.proto.v1.SamplingParams.newBuilder()
                .setTemperature(params.temperature())
                .setTopK(params.topK())
                .setTopP(params.topP())
                .setMaxNewTokens(params.maxNewTokens())
                .setRepetitionPenalty(params.repetitionPenalty())
                .setSeed(params.seed())
                .addAllStop(params.stopStrings())
                .addAllStopTokenIds(params.stopTokenIds().stream().sorted().toList())
                .build();
    }

    private static dev.rlhf.proto.v1.FinishReason finishReason(FinishReason reason) {
        return switch (reason) {
            case LENGTH -> dev.rlhf.proto.v1.FinishReason.FINISH_REASON_LENGTH;
            case STOP -> dev.rlhf.proto.v1.FinishReason.FINISH_REASON_STOP;
            case EOS -> dev.rlhf.proto.v1.FinishReason.FINISH_REASON_EOS;
        };
    }

    private static FinishReason finishReason(dev.rlhf.proto.v1.FinishReason reason, String field) {
        return switch (reason) {
            case FINISH_REASON_STOP -> FinishReason.STOP;
            case FINISH_REASON_EOS -> FinishReason.EOS;
            case FINISH_REASON_LENGTH -> FinishReason.LENGTH;
            case FINISH_REASON_UNSPECIFIED, UNRECOGNIZED ->
                    throw new IllegalArgumentException(field + " must be set but was " + reason);
        };
    }

    static List<Integer> boxed(int[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }
}
