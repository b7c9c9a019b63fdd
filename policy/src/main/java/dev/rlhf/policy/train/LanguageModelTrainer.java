package dev.rlhf.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.model.GptModel;
import java.util.List;

/**
 * Trains a {@link GptModel} on token sequences with next-token cross-entropy: the loop shared by pretraining
 * (every token a target) and supervised fine-tuning (only response tokens are targets). Batches are right-padded.
 */
public final class LanguageModelTrainer implements AutoCloseable {
    private final GptModel model;
    private final AdamW optimizer;

    /**
     * One training example.
     *
     * @param tokens the token ids
     * @param firstTarget index of the first token that is a training target (0 or 1 for pretraining, the prompt
     *     length for SFT); the tokens before it are context only
     */
    public record Example(int[] tokens, int firstTarget) {}

    public LanguageModelTrainer(GptModel model, AdamW.Settings settings) {
        this.model = model;
        this.optimizer = new AdamW(model.weights().tensors(), settings);
    }

    /** One optimiser step on a batch; returns the mean loss per target token before the update. */
    public float step(List<Example> batch, float learningRate) {
        int length = batch.stream().mapToInt(e -> e.tokens().length).max().orElseThrow();
        int size = batch.size();
        long[] ids = new long[size * length];
        long[] mask = new long[size * length];
        long[] targets = new long[size * length];
        for (int b = 0; b < size; b++) {
            Example example = batch.get(b);
            for (int t = 0; t < example.tokens().length; t++) {
                ids[b * length + t] = example.tokens()[t];
                mask[b * length + t] = 1;
                targets[b * length + t] = t >= Math.max(1, example.firstTarget()) ? 1 : 0;
            }
        }
        try (NDManager step = model.weights().manager().newSubManager()) {
            Shape shape = new Shape(size, length);
            NDArray tokenIds = step.create(ids, shape);
            float loss;
            try (GradientCollector collector = Gradients.collect()) {
                NDArray logits = model.forward(tokenIds, step.create(mask, shape), false).logits();
                NDArray value = CausalLmLoss.loss(logits, tokenIds, step.create(targets, shape));
                loss = value.getFloat();
                collector.backward(value);
                optimizer.step(learningRate); // inside the turn: see Gradients
            }
            return loss;
        }
    }

    public AdamW optimizer() {
        return optimizer;
    }

    @Override
    public void close() {
        optimizer.close();
    }
}
