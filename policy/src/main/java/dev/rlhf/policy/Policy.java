package dev.rlhf.policy;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.generate.Generator;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Path;

/** A checkpoint directory loaded for use: the model and the tokenizer that came with it. */
public final class Policy implements AutoCloseable {
    private final GptModel model;
    private final TextTokenizer tokenizer;

    private Policy(GptModel model, TextTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    /**
     * Loads {@code config.json}, {@code model.safetensors} and {@code tokenizer.json} from {@code dir}.
     *
     * @throws CheckpointException if any of them is missing or malformed
     */
    public static Policy load(Path dir, NDManager parent) {
        GptModel model = new GptModel(GptCheckpoint.load(dir, parent));
        try {
            return new Policy(model, TextTokenizer.load(dir));
        } catch (IOException | RuntimeException e) {
            model.close();
            throw new CheckpointException("cannot load the tokenizer of " + dir + ": " + e.getMessage(), e);
        }
    }

    public GptModel model() {
        return model;
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** A generator that decodes with this policy's tokenizer. */
    public Generator generator() {
        return new Generator(model, tokenizer::decode);
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
    }
}
