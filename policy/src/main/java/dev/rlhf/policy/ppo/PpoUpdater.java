package dev.rlhf.policy.ppo;

import dev.rlhf.policy.train.Gradients;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.policy.train.Replicas;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.IntStream;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The learner's side of PPO: from a scored batch it shapes the per-token rewards with the KL controller's β,
 * estimates advantages with GAE, then runs up to {@code epochs} passes over shuffled minibatches, each a forward,
 * a backward and an AdamW step on the policy (value head included), and finally feeds the observed KL to the
 * reference back to the controller. An epoch whose mean approximate KL exceeds {@code earlyStopApproxKl} ends the
 * update. Each minibatch runs in its own sub-manager, so native memory is the same after any number of updates.
 */
public final class PpoUpdater implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PpoUpdater.class);
    private static final int STAT_COUNT = 5;

    private final Replicas<GptModel> replicas;
    private final PpoSettings settings;
    private final KlController klController;
    private final AdamW optimizer;
    private final PpoLoss loss;
    private final GaeEstimator gae;
    private long updates;

    /**
     * An updater of {@code policy} alone, on the caller's thread.
     *
     * @param policy the trainable policy; must have a value head. Its tensors are trained in place.
     * @throws IllegalArgumentException if the policy has no value head
     */
    public PpoUpdater(GptModel policy, PpoSettings settings, KlController klController) {
        this(Replicas.of(policy, GptModel::weights, GptModel::new, 1), settings, klController, 0);
    }

    /**
     * An updater continuing a run that has already made {@code updatesDone} updates (its minibatch order
     * derives from the seed and the update's number, so a resumed run shuffles as the uninterrupted one did). Each
     * minibatch is split across the replicas in row order; the caller keeps the replicas.
     *
     * @param replicas the trainable policy (the master, trained in place) and its copies; must have a value head
     * @throws IllegalArgumentException if the policy has no value head
     */
    public PpoUpdater(Replicas<GptModel> replicas, PpoSettings settings, KlController klController,
            long updatesDone) {
        if (!replicas.master().weights().hasValueHead()) {
            throw new IllegalArgumentException("policy must have a value head");
        }
        this.replicas = replicas;
        this.settings = settings;
        this.klController = klController;
        this.optimizer = new AdamW(replicas.master().weights().tensors(), settings.optimizer());
        this.loss = PpoLoss.of(settings);
        this.gae = new GaeEstimator(settings.gamma(), settings.lambda());
        this.updates = updatesDone;
    }

    /**
     * One PPO update on a scored batch.
     *
     * @throws IllegalArgumentException if the batch has fewer sequences than {@code minibatches}, or fewer than two
     *     response tokens in all
     */
    public PpoStats update(Experience experience) {
        RolloutSequences sequences = experience.sequences();
        int batch = sequences.batch();
        if (batch < settings.minibatches()) {
            throw new IllegalArgumentException("batch of " + batch + " sequences cannot be split into "
                    + settings.minibatches() + " minibatches");
        }
        float[] mask = sequences.responseMask();
        double beta = klController.coefficient();
        float[] rewards = TokenRewards.shape(experience.scores(), experience.logprobs(), experience.refLogprobs(),
                mask, beta, settings.whitenScores(), settings.scoreClip());
        GaeEstimator.Estimate estimate = gae.estimate(rewards, experience.values(), mask, batch);
        float[] advantages = settings.whitenAdvantages()
                ? MaskedWhitening.whiten(estimate.advantages(), mask, settings.shiftAdvantageMean())
                : estimate.advantages();
        MinibatchData data = new MinibatchData(
                sequences, experience.logprobs(), experience.values(), advantages, estimate.returns(), mask);

        SplittableRandom shuffle = new SplittableRandom(settings.seed() + updates * 0x9E3779B97F4A7C15L);
        double[] sums = new double[STAT_COUNT];
        double gradNorms = 0;
        int steps = 0;
        int epochsRun = 0;
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            int[] order = permutation(batch, shuffle);
            double epochKl = 0;
            for (int m = 0; m < settings.minibatches(); m++) {
                int from = (int) ((long) batch * m / settings.minibatches());
                int to = (int) ((long) batch * (m + 1) / settings.minibatches());
                int[] rows = java.util.Arrays.copyOfRange(order, from, to);
                float[] stats = step(data.rows(rows));
                for (int s = 0; s < STAT_COUNT; s++) {
                    sums[s] += stats[s];
                }
                gradNorms += stats[STAT_COUNT];
                epochKl += stats[2];
                steps++;
            }
            epochsRun++;
            if (settings.earlyStopApproxKl() > 0 && epochKl / settings.minibatches() > settings.earlyStopApproxKl()) {
                break;
            }
        }
        double klToReference =
                TokenRewards.sequenceKl(experience.logprobs(), experience.refLogprobs(), mask, batch);
        klController.update(klToReference, batch);
        updates++;
        double meanScore = 0;
        for (float score : experience.scores()) {
            meanScore += score;
        }
        return new PpoStats(sums[0] / steps, sums[1] / steps, maskedMean(experience.entropy(), mask),
                sums[2] / steps, sums[3] / steps, sums[4] / steps, gradNorms / steps, klToReference, beta,
                meanScore / batch, epochsRun, steps);
    }

    /** Updates made so far, counting those before a resume. */
    public long updates() {
        return updates;
    }

    /** The controller whose β shapes the next batch (its state belongs in a checkpoint). */
    public KlController klController() {
        return klController;
    }

    /** The optimiser (its moments and step count belong in a checkpoint). */
    public AdamW optimizer() {
        return optimizer;
    }

    /**
     * Forward, backward and one AdamW step on a minibatch; returns the five loss statistics and the grad norm. The
     * rows are split into one contiguous share per replica, whose gradients add up to the minibatch's.
     */
    private float[] step(MinibatchData mb) {
        int rows = mb.sequences().batch();
        int shares = Math.min(rows, replicas.count());
        float tokens = Math.max(1f, sum(mb.mask()));
        // every share's tensors stay open until the statistics are read, and are closed even when a replica fails
        Queue<NDManager> opened = new ConcurrentLinkedQueue<>();
        try {
            AdamW.StepReport report;
            List<Share> done;
            try (GradientCollector collector = Gradients.collect()) {
                done = replicas.map(shares, (share, replica) -> {
                    int[] range = IntStream.range(rows * share / shares, rows * (share + 1) / shares).toArray();
                    NDManager manager = replica.weights().manager().newSubManager();
                    opened.add(manager);
                    return forwardBackward(replica, mb.rows(range), tokens, collector, manager);
                });
                replicas.reduceGradients();
                report = optimizer.step(settings.learningRate(), replicas); // inside the turn: see Gradients
            }
            replicas.broadcast();
            float[] stats = new float[STAT_COUNT + 1];
            for (Share share : done) {
                if (!Double.isFinite(report.gradNorm())) {
                    logSkippedStep(share.terms(), share.forward(), share.targets());
                }
                float[] terms = NDArrays.stack(new NDList(share.terms().policyLoss(), share.terms().valueLoss(),
                        share.terms().approxKl(), share.terms().clipFraction(),
                        share.terms().valueClipFraction())).toFloatArray();
                for (int s = 0; s < STAT_COUNT; s++) {
                    stats[s] += terms[s];
                }
            }
            stats[STAT_COUNT] = (float) report.gradNorm();
            return stats;
        } finally {
            opened.forEach(NDManager::close);
        }
    }

    /** One replica's share of a minibatch after its backward pass. */
    private record Share(PpoLoss.Terms terms, ResponseForward forward, PpoLoss.Targets targets) {}

    /**
     * The forward pass and loss of a share of a minibatch on {@code replica}, and the backward pass; the tensors go
     * to {@code manager}.
     */
    private Share forwardBackward(GptModel replica, MinibatchData share, float tokens, GradientCollector collector,
            NDManager manager) {
        RolloutSequences sequences = share.sequences();
        int rows = sequences.batch();
        Shape full = new Shape(rows, sequences.length());
        Shape response = new Shape(rows, sequences.responseLength());
        NDArray ids = manager.create(sequences.tokenIds(), full);
        NDArray attention = manager.create(sequences.attentionMask(), full);
        PpoLoss.Targets targets = new PpoLoss.Targets(
                manager.create(share.oldLogprobs(), response),
                manager.create(share.oldValues(), response),
                manager.create(share.advantages(), response),
                manager.create(share.returns(), response),
                manager.create(share.mask(), response),
                tokens);
        ResponseForward forward = ResponseForward.run(replica, ids, attention, sequences.promptLength(), true);
        // the entropy costs three passes over [rows, responseLength, vocab]: only a bonus pays for them
        PpoLoss.Terms terms = settings.entropyCoef() > 0
                ? loss.compute(forward.logprobs(), forward.values(),
                        ResponseForward.entropy(forward.logSoftmax()), targets)
                : loss.compute(forward.logprobs(), forward.values(), targets);
        collector.backward(terms.total());
        return new Share(terms, forward, targets);
    }

    private static float sum(float[] values) {
        float sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum;
    }

    /** What a minibatch whose gradient was not finite looked like, to tell an overflow from a numerical fault. */
    private static void logSkippedStep(PpoLoss.Terms terms, ResponseForward forward, PpoLoss.Targets targets) {
        NDArray mask = targets.mask();
        NDArray logRatio = forward.logprobs().sub(targets.oldLogprobs()).mul(mask);
        LOG.warn("PPO minibatch skipped: loss {}, log-ratio on response tokens in [{}, {}], |advantage| up to {},"
                + " log-probs finite: {}", terms.total().getFloat(), logRatio.min().getFloat(),
                logRatio.max().getFloat(), targets.advantages().abs().max().getFloat(),
                forward.logprobs().isInfinite().logicalOr(forward.logprobs().isNaN()).none().getBoolean());
    }

    private static double maskedMean(float[] values, float[] mask) {
        double sum = 0;
        double count = 0;
        for (int i = 0; i < values.length; i++) {
            sum += (double) values[i] * mask[i];
            count += mask[i];
        }
        return sum / count;
    }

    /** A Fisher-Yates permutation of {@code 0 .. n-1} drawn from {@code random} (the minibatch order). */
    public static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int swap = order[i];
            order[i] = order[j];
            order[j] = swap;
        }
        return order;
    }

    /** Closes the optimiser's state; the policy stays open. */
    @Override
    public void close() {
        optimizer.close();
    }
}
