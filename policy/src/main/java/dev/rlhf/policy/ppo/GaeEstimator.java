package dev.rlhf.policy.ppo;

/**
 * Generalised advantage estimation (Schulman et al. 2016) over response tokens, as TRL's
 * {@code compute_advantages}: {@code δ_t = r_t + γ V_{t+1} - V_t}, {@code A_t = δ_t + γλ A_{t+1}}, with
 * {@code V} and {@code r} zeroed on padding so that a row's value past its last real token is 0 (the episode ends
 * there). Returns are {@code A + V}, taken before any whitening.
 *
 * @param gamma discount
 * @param lambda bias/variance trade-off: 0 is one-step TD, 1 is the Monte-Carlo return minus the value
 */
public record GaeEstimator(double gamma, double lambda) {

    /** Advantages and returns, both {@code [batch, responseLength]}, 0 on padding. */
    public record Estimate(float[] advantages, float[] returns) {}

    public GaeEstimator {
        if (!(gamma >= 0 && gamma <= 1)) {
            throw new IllegalArgumentException("gamma must be in [0, 1] but was " + gamma);
        }
        if (!(lambda >= 0 && lambda <= 1)) {
            throw new IllegalArgumentException("lambda must be in [0, 1] but was " + lambda);
        }
    }

    /**
     * @param rewards {@code [batch, responseLength]}
     * @param values {@code [batch, responseLength]} V at the position predicting each token
     * @param mask {@code [batch, responseLength]} 1 for real tokens, right-padded
     * @param batch rows
     * @throws IllegalArgumentException if the arrays are not all {@code batch} rows of the same length
     */
    public Estimate estimate(float[] rewards, float[] values, float[] mask, int batch) {
        if (batch <= 0 || rewards.length % batch != 0 || values.length != rewards.length
                || mask.length != rewards.length) {
            throw new IllegalArgumentException("rewards, values and mask must each hold batch * responseLength "
                    + "entries for batch " + batch + " but held " + rewards.length + ", " + values.length + ", "
                    + mask.length);
        }
        int length = rewards.length / batch;
        float[] advantages = new float[rewards.length];
        float[] returns = new float[rewards.length];
        for (int b = 0; b < batch; b++) {
            double next = 0;
            double lastAdvantage = 0;
            for (int t = length - 1; t >= 0; t--) {
                int i = b * length + t;
                double value = values[i] * mask[i];
                double delta = rewards[i] * mask[i] + gamma * next - value;
                lastAdvantage = delta + gamma * lambda * lastAdvantage;
                advantages[i] = (float) (lastAdvantage * mask[i]);
                returns[i] = (float) ((lastAdvantage + value) * mask[i]);
                next = value;
            }
        }
        return new Estimate(advantages, returns);
    }
}
