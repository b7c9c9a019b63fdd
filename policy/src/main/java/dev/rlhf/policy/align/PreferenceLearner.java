package dev.rlhf.policy.align;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.ppo.PpoUpdater;
import dev.rlhf.policy.ppo.ResponseForward;
import dev.rlhf.policy.ppo.RolloutScorer;
import dev.rlhf.policy.ppo.RolloutSequences;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.policy.train.Gradients;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The offline preference learner: DPO or IPO ({@link DpoSettings#objective()}) on a fixed set of
 * {@link PreferencePair}s, against the frozen SFT model as the reference.
 *
 * <p>Each pair is one forward pass of {@code 2} sequences (prompt + chosen, prompt + rejected) packed as PPO packs a
 * rollout ({@link RolloutSequences}: prompts left-padded, responses right-padded); {@link ResponseForward} gives the
 * log-probability of every response token, and {@link SequenceLogprobs} sums (or, for IPO with MEAN, averages) them
 * over the real response tokens only, so padding never counts and a pair's loss does not depend on what it is
 * batched with.
 *
 * <p>The reference log-probs are computed once per distinct pair, the first time a pair is seen by
 * {@link #trainEpoch} or {@link #evaluate} (in forward passes of {@code forwardBatchSize} pairs, in the order the
 * pairs are first seen), and cached as two floats per pair, keyed by the pair's content
 * ({@link PreferencePair#equals}): later epochs, and a list rebuilt with equal pairs, never run the reference again.
 * The reference model is kept so that pairs first seen later (a new evaluation set) can be scored; a caller that has
 * shown the learner all its pairs can free it with {@link #releaseReference()}.
 *
 * <p>Each minibatch runs in a sub-manager of the policy's closed after its optimiser step, so native memory is the
 * same after any number of epochs. The learner owns its copies of the weights (policy, reference) and the
 * optimiser's state, and {@link #close()} frees them.
 */
public final class PreferenceLearner implements AutoCloseable {
    private final GptModel policy;
    private GptModel reference;
    private final DpoSettings settings;
    private final AdamW optimizer;
    private final int padTokenId;
    /** The reference's reduced log-probs of each pair seen: {chosen, rejected}. */
    private final Map<PreferencePair, float[]> referenceLogprobs = new HashMap<>();
    private long referencePairsForwarded;
    private long version;

    /** The learner's state a checkpoint keeps besides the weights. */
    public record Saved(long version, int optimizerSteps, Map<String, NDArray> optimizerState) {}

    /**
     * Pairs split into training and held-out ones, each in the original order.
     *
     * @param train the pairs to train on
     * @param heldOut the pairs to evaluate on
     */
    public record Split(List<PreferencePair> train, List<PreferencePair> heldOut) {}

    /**
     * A learner at the start of a run.
     *
     * @param sft the SFT weights: copied into the trainable policy and the frozen reference (a value head, if the
     *     weights have one, is left out of both); the caller keeps ownership of {@code sft}
     */
    public PreferenceLearner(GptWeights sft, NDManager parent, DpoSettings settings) {
        this(sft, sft.copyWithoutValueHead(parent), parent, settings, 0);
    }

    private PreferenceLearner(
            GptWeights sft, GptWeights trainable, NDManager parent, DpoSettings settings, long version) {
        this.policy = new GptModel(trainable);
        try {
            this.reference = new GptModel(sft.copyWithoutValueHead(parent));
            this.optimizer = new AdamW(trainable.tensors(), settings.optimizer());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.settings = settings;
        this.padTokenId = Math.max(0, sft.config().eosTokenId());
        this.version = version;
    }

    /**
     * A learner continuing from a checkpoint: the trained policy, the optimiser's moments and steps and the weight
     * version as they were saved. The reference log-probs are computed afresh from {@code sft}; on the same pairs
     * in the same order they are the same numbers, so a resumed run trains as the uninterrupted one.
     *
     * @param trained the checkpoint's policy weights; the learner takes ownership (a value head is dropped)
     * @throws IllegalArgumentException if the optimiser state does not fit the weights
     */
    public static PreferenceLearner resume(GptWeights sft, GptWeights trained, NDManager parent,
            DpoSettings settings, Saved saved) {
        GptWeights trainable = trained;
        if (trained.hasValueHead()) {
            trainable = trained.copyWithoutValueHead(parent);
            trained.close();
        }
        PreferenceLearner learner = new PreferenceLearner(sft, trainable, parent, settings, saved.version());
        try {
            learner.optimizer.restore(saved.optimizerState(), saved.optimizerSteps());
        } catch (RuntimeException e) {
            learner.close();
            throw e;
        }
        return learner;
    }

    /**
     * Splits {@code pairs} into training and held-out pairs: a seeded random {@code round(fraction * n)} of them
     * are held out, both parts keep the original order.
     *
     * @throws IllegalArgumentException if {@code fraction} is outside {@code [0, 1)}
     */
    public static Split split(List<PreferencePair> pairs, double fraction, long seed) {
        if (!(fraction >= 0 && fraction < 1)) {
            throw new IllegalArgumentException("fraction must be in [0, 1) but was " + fraction);
        }
        int n = pairs.size();
        int[] order = PpoUpdater.permutation(n, new SplittableRandom(seed));
        boolean[] heldOut = new boolean[n];
        for (int i = 0; i < Math.round(fraction * n); i++) {
            heldOut[order[i]] = true;
        }
        List<PreferencePair> train = new ArrayList<>();
        List<PreferencePair> held = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            (heldOut[i] ? held : train).add(pairs.get(i));
        }
        return new Split(List.copyOf(train), List.copyOf(held));
    }

    /** {@link #split(List, double, long)} with the settings' held-out fraction and seed. */
    public Split split(List<PreferencePair> pairs) {
        return split(pairs, settings.heldOutFraction(), settings.seed());
    }

    /**
     * One pass over {@code pairs} in an order shuffled by the settings' seed and {@code epochSeed}, in minibatches
     * of {@code batchSize} pairs (the last one smaller when they do not divide), one AdamW step each. Publishes a
     * new version.
     *
     * @return the statistics of the minibatches as each saw them before its step
     * @throws IllegalArgumentException if {@code pairs} is empty or a pair does not fit the context
     * @throws IllegalStateException if the reference was released and a pair has no cached reference log-probs
     */
    public PreferenceStats trainEpoch(List<PreferencePair> pairs, long epochSeed) {
        cacheReference(pairs);
        int n = pairs.size();
        int[] order = PpoUpdater.permutation(n, new SplittableRandom(settings.seed() + epochSeed * 0x9E3779B97F4A7C15L));
        Sums sums = new Sums();
        double gradNorms = 0;
        int steps = 0;
        for (int from = 0; from < n; from += settings.batchSize()) {
            int to = Math.min(n, from + settings.batchSize());
            List<PreferencePair> batch = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                batch.add(pairs.get(order[i]));
            }
            gradNorms += step(batch, sums);
            steps++;
        }
        version++;
        return sums.stats(settings.objective(), gradNorms / steps, steps);
    }

    /**
     * The loss and implicit rewards of {@code pairs} under the current policy, in forward passes of
     * {@code forwardBatchSize} pairs; no update.
     *
     * @throws IllegalArgumentException if {@code pairs} is empty or a pair does not fit the context
     * @throws IllegalStateException if the reference was released and a pair has no cached reference log-probs
     */
    public PreferenceStats evaluate(List<PreferencePair> pairs) {
        cacheReference(pairs);
        Gradients.inferenceOnly();
        Sums sums = new Sums();
        for (int from = 0; from < pairs.size(); from += settings.forwardBatchSize()) {
            List<PreferencePair> chunk = pairs.subList(from, Math.min(pairs.size(), from + settings.forwardBatchSize()));
            try (NDManager manager = policy.weights().manager().newSubManager()) {
                sums.add(terms(chunk, sequenceLogprobs(policy, chunk, manager)), chunk.size());
            }
        }
        return sums.stats(settings.objective(), Double.NaN, 0);
    }

    /**
     * Computes and caches the reference log-probs of every pair not yet cached, so that the reference can then be
     * released. {@link #trainEpoch} and {@link #evaluate} call it themselves.
     *
     * @throws IllegalArgumentException if a pair does not fit the context
     * @throws IllegalStateException if the reference was released and a pair is not cached
     */
    public void cacheReference(List<PreferencePair> pairs) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("no preference pairs");
        }
        int context = policy.config().contextLength();
        List<PreferencePair> missing = new ArrayList<>();
        LinkedHashSet<PreferencePair> seen = new LinkedHashSet<>();
        for (int i = 0; i < pairs.size(); i++) {
            PreferencePair pair = pairs.get(i);
            if (pair.length() > context) {
                throw new IllegalArgumentException("pair " + i + " needs " + pair.length()
                        + " positions but the context holds " + context);
            }
            if (!referenceLogprobs.containsKey(pair) && seen.add(pair)) {
                missing.add(pair);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        if (reference == null) {
            throw new IllegalStateException(missing.size() + " pairs have no cached reference log-probs and the "
                    + "reference model was released");
        }
        Gradients.inferenceOnly();
        for (int from = 0; from < missing.size(); from += settings.forwardBatchSize()) {
            List<PreferencePair> chunk =
                    missing.subList(from, Math.min(missing.size(), from + settings.forwardBatchSize()));
            try (NDManager manager = policy.weights().manager().newSubManager()) {
                float[] logprobs = sequenceLogprobs(reference, chunk, manager).toFloatArray();
                int rows = chunk.size();
                for (int i = 0; i < rows; i++) {
                    referenceLogprobs.put(chunk.get(i), new float[] {logprobs[i], logprobs[rows + i]});
                }
            }
            referencePairsForwarded += chunk.size();
        }
    }

    /**
     * Each completion's KL to the reference, the summed {@code log π - log π_ref} over its response tokens under the
     * current policy (as {@code PolicyLearner} and {@code GroupPolicyLearner} measure it): over samples of the
     * current policy its mean estimates KL(π || π_ref).
     *
     * @param prompts the prompt token ids, one per response
     * @param responses the response token ids (as sampled, an end-of-text token included when it ended there)
     * @throws IllegalStateException if the reference was released
     */
    public double[] klToReference(List<int[]> prompts, List<int[]> responses) {
        if (reference == null) {
            throw new IllegalStateException("the reference model was released: no KL to it can be measured");
        }
        return new RolloutScorer(policy, reference, settings.forwardBatchSize())
                .klToReference(RolloutSequences.pack(prompts, responses, padTokenId));
    }

    /** Frees the reference model; pairs cached so far stay usable, new ones then fail. */
    public void releaseReference() {
        if (reference != null) {
            reference.close();
            reference = null;
        }
    }

    /** Whether the reference model is still held. */
    public boolean holdsReference() {
        return reference != null;
    }

    /** The learner's state a checkpoint keeps besides the policy's weights. */
    public Saved saved() {
        return new Saved(version, optimizer.steps(), optimizer.state());
    }

    /** The current policy's weights as version {@link #version()}, for rollout workers or a checkpoint. */
    public WeightsSnapshot snapshot() {
        return WeightsSnapshot.of(policy.weights(), version);
    }

    public GptModel policy() {
        return policy;
    }

    public AdamW optimizer() {
        return optimizer;
    }

    public DpoSettings settings() {
        return settings;
    }

    /** Epochs trained, counting those before a resume: each {@link #trainEpoch} publishes one version. */
    public long version() {
        return version;
    }

    /** Pairs the reference model has been run on so far (a test's hook: once per distinct pair). */
    long referencePairsForwarded() {
        return referencePairsForwarded;
    }

    /** Forward, backward and one AdamW step on a minibatch; adds its statistics to {@code sums}, returns the grad norm. */
    private double step(List<PreferencePair> batch, Sums sums) {
        try (NDManager manager = policy.weights().manager().newSubManager()) {
            PreferenceTerms terms;
            AdamW.StepReport report;
            try (GradientCollector collector = Gradients.collect()) {
                terms = terms(batch, sequenceLogprobs(policy, batch, manager));
                collector.backward(terms.loss());
                report = optimizer.step(settings.learningRate()); // inside the turn: see Gradients
            }
            sums.add(terms, batch.size());
            return report.gradNorm();
        }
    }

    /** The loss of {@code batch} given the policy's reduced log-probs {@code [2 * batch]} (chosen rows first). */
    private PreferenceTerms terms(List<PreferencePair> batch, NDArray policyLogprobs) {
        int rows = batch.size();
        float[] ref = new float[2 * rows];
        for (int i = 0; i < rows; i++) {
            float[] cached = referenceLogprobs.get(batch.get(i));
            ref[i] = cached[0];
            ref[rows + i] = cached[1];
        }
        NDArray refLogprobs = policyLogprobs.getManager().create(ref);
        String chosen = "0:" + rows;
        String rejected = rows + ":";
        return settings.loss(new PreferenceLogprobs(policyLogprobs.get(chosen), policyLogprobs.get(rejected),
                refLogprobs.get(chosen), refLogprobs.get(rejected)));
    }

    /**
     * {@code [2 * pairs]} reduced log-probs of the chosen responses then the rejected ones under {@code model}, in
     * one forward pass, in {@code manager}.
     */
    private NDArray sequenceLogprobs(GptModel model, List<PreferencePair> pairs, NDManager manager) {
        List<int[]> prompts = new ArrayList<>(2 * pairs.size());
        List<int[]> responses = new ArrayList<>(2 * pairs.size());
        for (PreferencePair pair : pairs) {
            prompts.add(pair.promptTokens());
            responses.add(pair.chosenTokens());
        }
        for (PreferencePair pair : pairs) {
            prompts.add(pair.promptTokens());
            responses.add(pair.rejectedTokens());
        }
        RolloutSequences sequences = RolloutSequences.pack(prompts, responses, padTokenId);
        Shape full = new Shape(sequences.batch(), sequences.length());
        NDArray ids = manager.create(sequences.tokenIds(), full);
        NDArray attention = manager.create(sequences.attentionMask(), full);
        NDArray mask = manager.create(sequences.responseMask(), new Shape(sequences.batch(), sequences.responseLength()));
        ResponseForward forward = ResponseForward.run(model, ids, attention, sequences.promptLength(), false);
        return SequenceLogprobs.reduce(forward.logprobs(), mask, settings.reduction());
    }


    /** Pair-weighted sums of the statistics of several batches. */
    private static final class Sums {
        private double loss;
        private double chosen;
        private double rejected;
        private double accuracy;
        private int pairs;

        void add(PreferenceTerms terms, int rows) {
            loss += (double) terms.loss().getFloat() * rows;
            chosen += terms.chosenRewards().sum().getFloat();
            rejected += terms.rejectedRewards().sum().getFloat();
            accuracy += (double) terms.rewardAccuracy().getFloat() * rows;
            pairs += rows;
        }

        PreferenceStats stats(DpoSettings.Objective objective, double gradNorm, int steps) {
            return new PreferenceStats(objective, loss / pairs, chosen / pairs, rejected / pairs,
                    (chosen - rejected) / pairs, accuracy / pairs, gradNorm, pairs, steps);
        }
    }

    @Override
    public void close() {
        if (optimizer != null) {
            optimizer.close();
        }
        policy.close();
        releaseReference();
    }
}
