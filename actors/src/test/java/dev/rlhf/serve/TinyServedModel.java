package dev.rlhf.serve;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A random-weight policy small enough for tests, with a byte-level BPE tokenizer trained here on a few sentences.
 * It has no EOS (every completion runs to its length) and a context of {@link #CONTEXT} tokens.
 */
final class TinyServedModel {
    static final int CONTEXT = 256;
    /** Seed of the weights {@link #create} makes. */
    static final long SEED = 42;
    private static final List<String> SENTENCES = List.of(
            "The staff was friendly and the coffee was great.",
            "Review of the cafe in Oslo: slow service, cold food.",
            "Naïve café owners serve crème brûlée for 5 €.",
            "日本語のテキストも少し混ぜておく。");

    private TinyServedModel() {}

    /** Builds the model under {@code manager} and its tokenizer in {@code dir}. */
    static ServedModel create(NDManager manager, Path dir) throws IOException {
        TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300).train(SENTENCES)
                .writeTokenizerJson(dir));
        GptConfig config = GptConfig.of(tokenizer.vocabSize(), CONTEXT, 32, 2, 2, -1);
        GptModel model = new GptModel(GptWeights.random(config, false, manager, SEED));
        return new ServedModel(model, Optional.of(tokenizer), "tiny-random@test", 1);
    }
}
