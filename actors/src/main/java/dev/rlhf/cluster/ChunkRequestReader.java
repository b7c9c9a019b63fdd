package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.TensorSpec;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.RolloutRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks RolloutService requests against the worker's policy and turns them into the worker's own types. A bad
 * field answers {@code INVALID_ARGUMENT} whose description starts with the field's name.
 */
final class ChunkRequestReader {
    private final GptConfig config;
    private final int maxWeightsHeaderBytes;

    /** @param maxWeightsHeaderBytes the longest safetensors JSON header read from a synced version */
    ChunkRequestReader(GptConfig config, int maxWeightsHeaderBytes) {
        this.config = config;
        this.maxWeightsHeaderBytes = maxWeightsHeaderBytes;
    }

    /** The chunk's requests, in order. */
    List<GenerationRequest> requests(GenerateChunkRequest request) {
        if (request.getChunk() < 0) {
            throw invalid("chunk must not be negative but was " + request.getChunk());
        }
        if (request.getRequestsCount() == 0) {
            throw invalid("requests must hold at least one request");
        }
        List<GenerationRequest> out = new ArrayList<>(request.getRequestsCount());
        for (int i = 0; i < request.getRequestsCount(); i++) {
            RolloutRequest r = request.getRequests(i);
            String field = "requests[" + i + "]";
            int[] prompt = prompt(r.getPromptTokenIdsList(), field + ".prompt_token_ids");
            if (!r.hasSampling()) {
                throw invalid(field + ".sampling must be set");
            }
            out.add(new GenerationRequest(prompt, sampling(r.getSampling(), field + ".sampling")));
        }
        return out;
    }

    /**
     * The policy weights of a synced version's file, checked to hold every tensor of the worker's policy with its
     * size.
     */
    WeightsSnapshot weights(long version, ByteString file) {
        WeightsSnapshot snapshot = SnapshotSafetensors.decodeSynced(file, version, maxWeightsHeaderBytes);
        for (TensorSpec spec : GptWeights.specs(config, false)) {
            float[] values = snapshot.tensors().get(spec.name());
            long size = spec.memoryShape().size();
            if (values == null || values.length != size) {
                throw invalid("data: the version's safetensors file must hold tensor " + spec.name() + " with " + size
                        + " values but " + (values == null ? "has none" : "has " + values.length));
            }
        }
        return snapshot;
    }

    private int[] prompt(List<Integer> ids, String field) {
        if (ids.isEmpty()) {
            throw invalid(field + " must not be empty");
        }
        if (ids.size() >= config.contextLength()) {
            throw invalid(field + " has " + ids.size() + " tokens, which leaves no room to generate in the context of "
                    + config.contextLength());
        }
        checkIds(ids, field);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private SamplingParams sampling(dev.rlhf.proto.v1.SamplingParams s, String field) {
        if (!(s.getTemperature() >= 0) || Float.isInfinite(s.getTemperature())) {
            throw invalid(field + ".temperature must be a finite number >= 0 but was " + s.getTemperature());
        }
        if (s.getTopK() < 0) {
            throw invalid(field + ".top_k must be >= 0 but was " + s.getTopK());
        }
        if (!(s.getTopP() > 0 && s.getTopP() <= 1)) {
            throw invalid(field + ".top_p must be in (0, 1] but was " + s.getTopP());
        }
        if (s.getMaxNewTokens() <= 0 || s.getMaxNewTokens() > config.contextLength()) {
            throw invalid(field + ".max_new_tokens must be in [1, " + config.contextLength() + "] but was "
                    + s.getMaxNewTokens());
        }
        if (!(s.getRepetitionPenalty() > 0) || Float.isInfinite(s.getRepetitionPenalty())) {
            throw invalid(field + ".repetition_penalty must be a finite number > 0 (1 disables it) but was "
                    + s.getRepetitionPenalty());
        }
        for (int j = 0; j < s.getStopCount(); j++) {
            if (s.getStop(j).isEmpty()) {
                throw invalid(field + ".stop[" + j + "] must not be empty");
            }
        }
        checkIds(s.getStopTokenIdsList(), field + ".stop_token_ids");
        Set<Integer> stopIds = new HashSet<>(s.getStopTokenIdsList());
        return new SamplingParams(s.getTemperature(), s.getTopK(), s.getTopP(), s.getMaxNewTokens(),
                s.getRepetitionPenalty(), stopIds, s.getStopList(), s.getSeed());
    }

    private void checkIds(List<Integer> ids, String field) {
        for (int j = 0; j < ids.size(); j++) {
            int id = ids.get(j);
            if (id < 0 || id >= config.vocabSize()) {
                throw invalid(field + "[" + j + "] = " + id + " is not in the vocabulary [0, " + config.vocabSize()
                        + ")");
            }
        }
    }

    private static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }
}
