package dev.rlhf.cluster;

import com.google.protobuf.ByteString;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.proto.v1.RewardModelShape;
import dev.rlhf.proto.v1.ScoreChunkRequest;
import dev.rlhf.proto.v1.ScoredPair;
import dev.rlhf.proto.v1.UseRewardVersionRequest;
import dev.rlhf.rewardmodel.RewardNormalizer;
import dev.rlhf.rewardmodel.RewardScorer;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;

/**
 * RewardScorerService's messages both ways: the coordinator's side builds them from a reward-model version and a
 * chunk of pairs; the node's side checks them against its tokenizer and turns them into its own types. A bad field
 * answers {@code INVALID_ARGUMENT} whose description starts with the field's name.
 */
final class RewardRequestReader {
    private static final int SHA256_BYTES = 32;

    private final int vocabSize;

    /** @param vocabSize the size of the node's tokenizer's vocabulary, which every reward model must share */
    RewardRequestReader(int vocabSize) {
        this.vocabSize = vocabSize;
    }

    /** What has a node score with {@code scorer}, whose weights were synced as {@code version} with {@code sha256}. */
    static UseRewardVersionRequest useVersion(int version, ByteString sha256, RewardScorer scorer) {
        GptConfig config = scorer.model().config();
        RewardNormalizer normalizer = scorer.normalizer();
        return UseRewardVersionRequest.newBuilder()
                .setVersion(version)
                .setSha256(sha256)
                .setShape(RewardModelShape.newBuilder()
                        .setVocabSize(config.vocabSize())
                        .setContextLength(config.contextLength())
                        .setDModel(config.dModel())
                        .setLayers(config.layers())
                        .setHeads(config.heads())
                        .setLayerNormEpsilon(config.layerNormEpsilon())
                        .setEosTokenId(config.eosTokenId()))
                .setContextLength(scorer.encoder().contextLength())
                .setBatchSize(scorer.batchSize())
                .setNormalizerMean(normalizer.mean())
                .setNormalizerStd(normalizer.std())
                .setNormalizerSamples(normalizer.samples())
                .build();
    }

    /** A chunk of pairs to score with {@code version}. */
    static ScoreChunkRequest scoreChunk(int chunk, int version, List<PromptResponse> pairs) {
        ScoreChunkRequest.Builder request = ScoreChunkRequest.newBuilder().setChunk(chunk)
                .setRewardModelVersion(version);
        for (PromptResponse pair : pairs) {
            request.addPairs(ScoredPair.newBuilder().setPrompt(pair.prompt()).setResponse(pair.response()));
        }
        return request.build();
    }

    /** The model config of a UseVersion, checked with its context length and batch size. */
    GptConfig config(UseRewardVersionRequest request) {
        if (request.getVersion() < 0) {
            throw invalid("version must not be negative but was " + request.getVersion());
        }
        if (request.getSha256().size() != SHA256_BYTES) {
            throw invalid("sha256 must be the " + SHA256_BYTES + "-byte SHA-256 of the version's synced file but has "
                    + request.getSha256().size() + " bytes");
        }
        if (!request.hasShape()) {
            throw invalid("shape must be set");
        }
        RewardModelShape shape = request.getShape();
        if (shape.getVocabSize() != vocabSize) {
            throw invalid("shape.vocab_size must be the node's tokenizer's, " + vocabSize + ", but was "
                    + shape.getVocabSize() + " (a reward node scores with the policy checkpoint's tokenizer)");
        }
        GptConfig config;
        try {
            config = new GptConfig(shape.getVocabSize(), shape.getContextLength(), shape.getDModel(),
                    shape.getLayers(), shape.getHeads(), shape.getLayerNormEpsilon(), shape.getEosTokenId());
        } catch (IllegalArgumentException e) {
            throw invalid("shape " + e.getMessage());
        }
        if (request.getContextLength() < 2 || request.getContextLength() > config.contextLength()) {
            throw invalid("context_length must be in [2, " + config.contextLength() + "] but was "
                    + request.getContextLength());
        }
        if (request.getBatchSize() < 1) {
            throw invalid("batch_size must be positive but was " + request.getBatchSize());
        }
        return config;
    }

    /** The normalisation of a UseVersion, checked. */
    static RewardNormalizer normalizer(UseRewardVersionRequest request) {
        try {
            return new RewardNormalizer(request.getNormalizerMean(), request.getNormalizerStd(),
                    request.getNormalizerSamples());
        } catch (IllegalArgumentException e) {
            throw invalid("normalizer_" + e.getMessage());
        }
    }

    /** The pairs of a ScoreChunk, checked. */
    static List<PromptResponse> pairs(ScoreChunkRequest request) {
        if (request.getChunk() < 0) {
            throw invalid("chunk must not be negative but was " + request.getChunk());
        }
        if (request.getPairsCount() == 0) {
            throw invalid("pairs must hold at least one pair");
        }
        List<PromptResponse> pairs = new ArrayList<>(request.getPairsCount());
        for (int i = 0; i < request.getPairsCount(); i++) {
            ScoredPair pair = request.getPairs(i);
            if (pair.getPrompt().isEmpty() && pair.getResponse().isEmpty()) {
                throw invalid("pairs[" + i + "] must have a prompt or a response");
            }
            pairs.add(new PromptResponse(pair.getPrompt(), pair.getResponse()));
        }
        return pairs;
    }

    private static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }
}
