package dev.rlhf.serve;

import dev.rlhf.policy.model.GptModel;

/**
 * One set of policy weights a {@link GenerationScheduler} decodes with. Closing it releases the model's native
 * memory.
 *
 * @param model the network
 * @param checkpointId what identifies these weights to clients
 * @param version the server's version of these weights; each hot-swap serves a higher one
 */
public record PolicyWeights(GptModel model, String checkpointId, long version) implements AutoCloseable {
    @Override
    public void close() {
        model.close();
    }
}
