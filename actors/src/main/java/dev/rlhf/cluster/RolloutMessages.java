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
            RolloutCompletion.Builder c = RolloutCompletion.newBuilder()
                    .addAllTokenIds(boxed(completion.tokenIds()))
                    .setFinishReason(finishReason(completion.finishReason()))
                    .setText(completion.text());
            for (float logprob : completion.logprobs()) {
                c.addLogprobs(logprob);
            }
            builder.addCompletions(c);
        }
        return builder.build();
    }

    /** The rollout a worker answered, attributed to the coordinator's id {@code worker} for it. */
    static RolloutWorker.Rollout rollout(GenerateChunkResponse response, int worker) {
        List<Completion> completions = new ArrayList<>(response.getCompletionsCount());
        for (RolloutCompletion c : response.getCompletionsList()) {
            float[] logprobs = new float[c.getLogprobsCount()];
            for (int i = 0; i < logprobs.length; i++) {
                logprobs[i] = c.getLogprobs(i);
            }
            completions.add(new Completion(c.getTokenIdsList().stream().mapToInt(Integer::intValue).toArray(),
                    logprobs, finishReason(c.getFinishReason()), c.getText()));
        }
        return new RolloutWorker.Rollout(response.getChunk(), worker, response.getWeightVersion(), completions,
                response.getSeconds());
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

    private static FinishReason finishReason(dev.rlhf.proto.v1.FinishReason reason) {
        return switch (reason) {
            case FINISH_REASON_STOP -> FinishReason.STOP;
            case FINISH_REASON_EOS -> FinishReason.EOS;
            case FINISH_REASON_LENGTH -> FinishReason.LENGTH;
            case FINISH_REASON_UNSPECIFIED, UNRECOGNIZED ->
                    throw new IllegalArgumentException("a rollout worker answered finish reason " + reason);
        };
    }

    private static List<Integer> boxed(int[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }
}
