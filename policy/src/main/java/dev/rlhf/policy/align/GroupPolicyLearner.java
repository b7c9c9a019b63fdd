package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.ppo.PpoUpdater;
import dev.rlhf.policy.ppo.ResponseForward;
import dev.rlhf.policy.ppo.RolloutScorer;
import dev.rlhf.policy.ppo.RolloutSequences;
import dev.rlhf.policy.ppo.TokenRewards;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.policy.train.Gradients;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The online learner of GRPO and RLOO, with the public face of {@code dev.rlhf.policy.ppo.PolicyLearner} so the
 * actor layer can drive either: the trainable policy (no value head: the baseline comes from the other completions
 * of the prompt), the frozen SFT reference, the AdamW optimiser and the version of the weights it last published.
 *
 * <p>A batch is laid out in groups: {@code groupSize} consecutive completions share one prompt. One
 * {@link #learn} is:
 * <ol>
 *   <li>one no-gradient pass over the batch, in chunks of {@code forwardBatchSize}, for log π_old (the policy as
 *       it is before the update) and log π_ref of every response token ({@link RolloutScorer#logprobs});</li>
 *   <li>one advantage per completion: GRPO {@link GrpoAdvantages} over the scores; RLOO {@link RlooAdvantages}
 *       over the scores shaped by {@code -coefficient · Σ_t (log π_old - log π_ref)}
 *       ({@link RlooAdvantages#shapeRewards});</li>
 *   <li>{@code epochs} passes, each over the batch shuffled by sequence and split into {@code minibatches}; each
 *       minibatch one forward, {@link GrpoLoss} (β k3 for GRPO, β 0 for RLOO), backward and AdamW step, in its own
 *       sub-manager closed after the step.</li>
 * </ol>
 * With one epoch and one minibatch the ratio is 1 and this is the plain on-policy step
 * ({@code old = current.detach()}); with more, later steps are importance-weighted and clipped against the
 * rollout's log-probs, as TRL's {@code GRPOTrainer} does when a generation batch feeds several steps.
 *
 * <p>The learner owns its two copies of the weights and the optimiser's state, and closes them.
 */
public final class GroupPolicyLearner implements AutoCloseable {
    private final GptModel policy;
    private final GptModel reference;
    private final RolloutScorer scorer;
    private final GroupSettings settings;
    private final GrpoLoss loss;
    private final AdamW optimizer;
    private final int padTokenId;
    private long version;

    /** What one update produced: its statistics and the new weights, published as {@code snapshot.version()}. */
    public record Update(GroupStats stats, WeightsSnapshot snapshot) {}

    /**
     * The learner's state a checkpoint keeps besides the weights.
     *
     * @param version the weight version published last, also the number of updates made
     * @param optimizerSteps AdamW's step count
     * @param optimizerState AdamW's moments ({@link AdamW#state()})
     */
    public record Saved(long version, int optimizerSteps, Map<String, NDArray> optimizerState) {}

    /**
     * A learner at the start of a run.
     *
     * @param sft the SFT weights: copied into the trainable policy (without any value head) and the reference
     */
    public GroupPolicyLearner(GptWeights sft, NDManager parent, GroupSettings settings) {
        this(sft, sft.copyWithoutValueHead(parent), parent, settings, 0);
    }

    private GroupPolicyLearner(GptWeights sft, GptWeights trainable, NDManager parent, GroupSettings settings,
            long version) {
        this.policy = new GptModel(trainable);
        this.reference = new GptModel(sft.copy(parent));
        this.settings = settings;
        this.loss = settings.loss();
        this.padTokenId = Math.max(0, sft.config().eosTokenId());
        this.version = version;
        RolloutScorer built = null;
        AdamW adamW = null;
        try {
            built = new RolloutScorer(policy, reference, settings.forwardBatchSize());
            adamW = new AdamW(policy.weights().tensors(), settings.optimizer());
        } catch (RuntimeException e) {
            policy.close();
            reference.close();
            throw e;
        }
        this.scorer = built;
        this.optimizer = adamW;
    }

    /**
     * A learner continuing from a checkpoint: the trained policy, the optimiser's moments and steps, and the weight
     * version as they were saved. The minibatch order derives from the seed and the version, so the next update
     * is the one the uninterrupted run would have made.
     *
     * @param trained the checkpoint's policy weights, without a value head; the learner takes ownership
     * @throws IllegalArgumentException if {@code trained} has a value head or the optimiser state does not fit
     */
    public static GroupPolicyLearner resume(GptWeights sft, GptWeights trained, NDManager parent,
            GroupSettings settings, Saved saved) {
        if (trained.hasValueHead()) {
            trained.close();
            throw new IllegalArgumentException(
                    "a " + settings.algorithm() + " checkpoint holds no value head, but the weights to resume from do");
        }
        if (saved.version() < 0) {
            trained.close();
            throw new IllegalArgumentException("the saved version must not be negative but was " + saved.version());
        }
        GroupPolicyLearner learner = new GroupPolicyLearner(sft, trained, parent, settings, saved.version());
        try {
            learner.optimizer.restore(saved.optimizerState(), saved.optimizerSteps());
        } catch (RuntimeException e) {
            learner.close();
            throw e;
        }
        return learner;
    }

    /** The weights rollout workers start from (version 0, before any update). */
    public WeightsSnapshot initialSnapshot() {
        return WeightsSnapshot.of(policy.weights(), version);
    }

    /**
     * One GRPO or RLOO update on a scored batch.
     *
     * @param prompts the prompt token ids, one per completion
     * @param completions {@code groups × groupSize}, the completions of one prompt side by side
     * @param scores the (normalised) reward-model score of each completion
     * @throws IllegalArgumentException if the sizes differ, the batch is not a positive multiple of the group size,
     *     a group's prompts differ, a score is not finite, or there are fewer completions than minibatches
     */
    public Update learn(List<int[]> prompts, List<Completion> completions, float[] scores) {
        int batch = requireGroups(prompts, completions, scores);
        if (batch < settings.minibatches()) {
            throw new IllegalArgumentException("batch of " + batch + " completions cannot be split into "
                    + settings.minibatches() + " minibatches");
        }
        RolloutSequences sequences = pack(prompts, completions);
        RolloutScorer.TokenLogprobs rollout = scorer.logprobs(sequences);
        float[] mask = sequences.responseMask();
        double[] klSums = TokenRewards.klPerSequence(rollout.logprobs(), rollout.refLogprobs(), mask, batch);
        double[] rewards = new double[batch];
        for (int i = 0; i < batch; i++) {
            rewards[i] = scores[i];
        }
        boolean rloo = settings.algorithm() == GroupSettings.Algorithm.RLOO;
        double[] shaped = rloo ? RlooAdvantages.shapeRewards(rewards, klSums, settings.rewardKlCoefficient()) : rewards;
        double[] advantages = rloo
                ? RlooAdvantages.compute(shaped, settings.groupSize())
                : GrpoAdvantages.compute(shaped, settings.groupSize(), settings.scaling(), settings.epsilon());

        SplittableRandom shuffle = new SplittableRandom(settings.seed() + version * 0x9E3779B97F4A7C15L);
        double[] sums = new double[3]; // policy loss, k3, clip fraction
        double gradNorms = 0;
        int steps = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            int[] order = PpoUpdater.permutation(batch, shuffle);
            for (int m = 0; m < settings.minibatches(); m++) {
                int from = (int) ((long) batch * m / settings.minibatches());
                int to = (int) ((long) batch * (m + 1) / settings.minibatches());
                float[] stats = step(sequences, rollout, advantages, mask, Arrays.copyOfRange(order, from, to));
                sums[0] += stats[0];
                sums[1] += stats[1];
                sums[2] += stats[2];
                gradNorms += stats[3];
                steps++;
            }
        }
        version++;

        double klToReference = mean(klSums);
        GroupStats stats = new GroupStats(settings.algorithm(), sums[0] / steps,
                rloo ? klToReference : sums[1] / steps, klToReference,
                rloo ? settings.rewardKlCoefficient() : settings.beta(), sums[2] / steps, gradNorms / steps,
                mean(rewards), meanGroupStd(rewards), zeroStdFraction(rewards),
                rloo ? mean(shaped) - mean(advantages) : Double.NaN, // baseline_i = r_i - A_i
                Double.parseDouble(Float.toString(settings.learningRate())), steps);
        return new Update(stats, WeightsSnapshot.of(policy.weights(), version));
    }

    /**
     * Each completion's KL to the reference, the summed {@code log π - log π_ref} over its tokens under the current
     * policy: over samples of the current policy its mean estimates KL(π || π_ref).
     *
     * @param prompts the prompt token ids, one per completion (no group layout needed)
     */
    public double[] klToReference(List<int[]> prompts, List<Completion> completions) {
        return scorer.klToReference(pack(prompts, completions));
    }

    public GptModel policy() {
        return policy;
    }

    /** The optimiser (its moments and step count belong in a checkpoint, with {@link #version()}). */
    public AdamW optimizer() {
        return optimizer;
    }

    public GroupSettings settings() {
        return settings;
    }

    /** The weight version published last; also the number of updates made, counting those before a resume. */
    public long version() {
        return version;
    }

    /** Forward, backward and one AdamW step on the given rows; returns policy loss, k3, clip fraction, grad norm. */
    private float[] step(RolloutSequences all, RolloutScorer.TokenLogprobs rollout, double[] advantages,
            float[] mask, int[] rows) {
        RolloutSequences sequences = all.rows(rows);
        int width = all.responseLength();
        float[] rowAdvantages = new float[rows.length];
        for (int i = 0; i < rows.length; i++) {
            rowAdvantages[i] = (float) advantages[rows[i]];
        }
        try (NDManager manager = policy.weights().manager().newSubManager()) {
            Shape full = new Shape(rows.length, sequences.length());
            Shape response = new Shape(rows.length, width);
            NDArray ids = manager.create(sequences.tokenIds(), full);
            NDArray attention = manager.create(sequences.attentionMask(), full);
            GrpoLoss.Inputs inputs = new GrpoLoss.Inputs(
                    manager.create(pick(rollout.logprobs(), rows, width), response),
                    manager.create(pick(rollout.refLogprobs(), rows, width), response),
                    manager.create(rowAdvantages, new Shape(rows.length)),
                    manager.create(pick(mask, rows, width), response));
            GrpoLoss.Terms terms;
            AdamW.StepReport report;
            try (GradientCollector collector = Gradients.collect()) {
                ResponseForward forward =
                        ResponseForward.run(policy, ids, attention, sequences.promptLength(), false);
                terms = loss.compute(forward.logprobs(), inputs);
                collector.backward(terms.loss());
                report = optimizer.step(settings.learningRate()); // inside the turn: see Gradients
            }
            return new float[] {terms.policyLoss().getFloat(), terms.kl().getFloat(),
                terms.clipFraction().getFloat(), (float) report.gradNorm()};
        }
    }

    private RolloutSequences pack(List<int[]> prompts, List<Completion> completions) {
        List<int[]> responses = completions.stream().map(Completion::tokenIds).toList();
        return RolloutSequences.pack(prompts, responses, padTokenId);
    }

    /** @return the batch size, after checking the group layout */
    private int requireGroups(List<int[]> prompts, List<Completion> completions, float[] scores) {
        int batch = completions.size();
        if (prompts.size() != batch || scores.length != batch) {
            throw new IllegalArgumentException("prompts, completions and scores must be equal in number but were "
                    + prompts.size() + ", " + batch + " and " + scores.length);
        }
        int k = settings.groupSize();
        if (batch == 0 || batch % k != 0) {
            throw new IllegalArgumentException("the batch of " + batch + " completions is not a positive multiple of "
                    + "the group size " + k + " (" + settings.algorithm() + " needs " + k
                    + " consecutive completions per prompt)");
        }
        for (int start = 0; start < batch; start += k) {
            for (int i = start + 1; i < start + k; i++) {
                if (!Arrays.equals(prompts.get(start), prompts.get(i))) {
                    throw new IllegalArgumentException("group " + start / k + " (completions " + start + ".."
                            + (start + k - 1) + ") must share one prompt, but the prompt of completion " + i
                            + " differs from that of completion " + start);
                }
            }
        }
        for (int i = 0; i < batch; i++) {
            if (!Float.isFinite(scores[i])) {
                throw new IllegalArgumentException("score " + i + " is not finite: " + scores[i]);
            }
        }
        return batch;
    }

    private double meanGroupStd(double[] rewards) {
        int k = settings.groupSize();
        double sum = 0;
        for (int start = 0; start < rewards.length; start += k) {
            sum += GroupedRewards.sampleStd(rewards, start, start + k);
        }
        return sum / (rewards.length / k);
    }

    private double zeroStdFraction(double[] rewards) {
        int k = settings.groupSize();
        int flat = 0;
        for (int start = 0; start < rewards.length; start += k) {
            boolean equal = true;
            for (int i = start + 1; i < start + k; i++) {
                equal &= rewards[i] == rewards[start];
            }
            flat += equal ? 1 : 0;
        }
        return flat / (double) (rewards.length / k);
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    private static float[] pick(float[] rowMajor, int[] rows, int width) {
        float[] out = new float[rows.length * width];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(rowMajor, rows[i] * width, out, i * width, width);
        }
        return out;
    }

    /** Closes the optimiser's state and both copies of the weights. */
    @Override
    public void close() {
        optimizer.close();
        policy.close();
        reference.close();
    }
}
