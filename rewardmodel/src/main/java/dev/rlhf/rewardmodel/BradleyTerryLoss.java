package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDArray;

/**
 * The Bradley–Terry preference loss: with {@code P(chosen > rejected) = sigmoid(r_chosen - r_rejected)}, the mean
 * of {@code -log sigmoid(r_chosen - r_rejected - margin)} over pairs. A positive margin (Llama 2's trick for
 * judgments of stronger preference) asks the model to separate the pair by at least that much.
 */
public final class BradleyTerryLoss {
    private BradleyTerryLoss() {}

    /**
     * @param chosen {@code [pairs]} scores of the preferred responses
     * @param rejected {@code [pairs]} scores of the others
     * @param margin {@code [pairs]} margins, zeros for the plain loss
     * @return the mean loss, a scalar
     */
    public static NDArray loss(NDArray chosen, NDArray rejected, NDArray margin) {
        NDArray z = chosen.sub(rejected).sub(margin);
        // -log sigmoid(z) = softplus(-z) = max(-z, 0) + log(1 + exp(-|z|)), which never overflows
        return z.neg().maximum(0f).add(z.abs().neg().exp().add(1f).log()).mean();
    }
}
