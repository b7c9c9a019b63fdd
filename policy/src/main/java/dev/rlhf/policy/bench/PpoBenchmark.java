package dev.rlhf.policy.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.ppo.Experience;
import dev.rlhf.policy.ppo.KlController;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.policy.ppo.PpoStats;
import dev.rlhf.policy.ppo.PpoUpdater;
import dev.rlhf.policy.ppo.RolloutScorer;
import dev.rlhf.policy.ppo.RolloutSequences;
import dev.rlhf.policy.train.Replicas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * PPO learner throughput with random weights: one update is the scoring of a rollout batch (policy log-probs and
 * values, reference log-probs) and the PPO epochs over it (forward, backward, AdamW per minibatch). Prompts and
 * responses are random and full length; scores are random. Early stopping is off so every update does all epochs.
 * Next to the throughput it reports the bound that the update's weight products alone set on this machine
 * ({@link GemmRoofline}), measured in the same run.
 */
public final class PpoBenchmark {
    private PpoBenchmark() {}

    /**
     * Runs {@code updates} timed updates on {@code replicas} data-parallel replicas after {@code warmup} untimed
     * ones; returns the figures as a map. With more than one replica the same updates also run on one, alternating
     * with them ({@link ReplicaScaling}), and the scaling is reported beside; the GEMM bound is then that of
     * {@code replicas} cores, each running its share.
     */
    public static Map<String, Object> run(BenchShape shape, PpoSettings configured, int warmup, int updates,
            int replicas) {
        PpoSettings settings = withoutEarlyStop(configured);
        try (NDManager manager = NDManager.newBaseManager();
                Learner learner = new Learner(shape, settings, manager, replicas);
                Learner single = replicas > 1 ? new Learner(shape, settings, manager, 1) : null) {
            SplittableRandom random = new SplittableRandom(7);
            for (int i = 0; i < warmup; i++) {
                RolloutSequences sequences = batch(shape, random);
                float[] scores = scores(shape, random);
                learner.update(sequences, scores);
                if (single != null) {
                    single.update(sequences, scores);
                }
            }
            learner.clearTimes();
            List<RolloutSequences> batches = new ArrayList<>();
            List<float[]> scores = new ArrayList<>();
            for (int i = 0; i < updates; i++) {
                batches.add(batch(shape, random));
                scores.add(scores(shape, random));
            }
            ReplicaScaling scaling = single == null ? null : ReplicaScaling.measure(replicas, updates,
                    i -> single.update(batches.get(i), scores.get(i)),
                    i -> learner.update(batches.get(i), scores.get(i)));
            if (single == null) {
                for (int i = 0; i < updates; i++) {
                    learner.update(batches.get(i), scores.get(i));
                }
            }
            double total = learner.scoring.stream().mapToDouble(Double::doubleValue).sum()
                    + learner.training.stream().mapToDouble(Double::doubleValue).sum();
            double best = Double.POSITIVE_INFINITY;
            for (int i = 0; i < updates; i++) {
                best = Math.min(best, learner.scoring.get(i) + learner.training.get(i));
            }
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("benchmark", "ppo");
            result.put("config", shape.asMap());
            result.put("epochs", settings.epochs());
            result.put("minibatches", settings.minibatches());
            result.put("engine", Engine.getInstance().getEngineName() + " " + Engine.getInstance().getVersion());
            result.put("threads", Runtime.getRuntime().availableProcessors());
            // what decides the speed on a shared machine: OpenMP threads spin-wait, so more than the free cores stalls
            result.put("intra_op_threads", JniUtils.getNumThreads());
            result.put("updates", updates);
            result.put("samples_per_s", shape.batch() * updates / total);
            result.put("best_samples_per_s", shape.batch() / best);
            result.put("scoring_seconds_per_update", learner.scoring.stream().mapToDouble(Double::doubleValue).sum()
                    / updates);
            result.put("training_seconds_per_update", learner.training.stream().mapToDouble(Double::doubleValue)
                    .sum() / updates);
            result.put("last_approx_kl", learner.last.approxKl());
            if (scaling != null) {
                scaling.report(result, "samples", shape.batch());
            }
            roofline(shape, settings).report(result, "update", "samples", shape.batch() * replicas,
                    shape.batch() * updates / total, manager);
            return result;
        }
    }

    /**
     * A PPO learner on random weights (the same seed for every replica count) and the time each update's scoring
     * and training took.
     */
    private static final class Learner implements AutoCloseable {
        private final GptModel policy;
        private final GptModel reference;
        private final Replicas<GptModel> replicas;
        private final PpoUpdater updater;
        private final RolloutScorer scorer;
        private final List<Double> scoring = new ArrayList<>();
        private final List<Double> training = new ArrayList<>();
        private PpoStats last;

        Learner(BenchShape shape, PpoSettings settings, NDManager manager, int replicas) {
            this.policy = new GptModel(GptWeights.random(shape.modelConfig(), true, manager, 1));
            this.reference = new GptModel(policy.weights().copy(manager));
            this.replicas = Replicas.of(policy, GptModel::weights, GptModel::new, replicas);
            this.updater = new PpoUpdater(this.replicas, settings, KlController.create(settings.kl()), 0);
            this.scorer = new RolloutScorer(this.replicas, reference, settings.forwardBatchSize());
        }

        /** One update, its scoring and training times recorded. */
        void update(RolloutSequences sequences, float[] scores) {
            long start = System.nanoTime();
            Experience experience = scorer.score(sequences, scores);
            long scored = System.nanoTime();
            last = updater.update(experience);
            scoring.add((scored - start) / 1e9);
            training.add((System.nanoTime() - scored) / 1e9);
        }

        /** Forgets the times recorded so far (the warm-up's). */
        void clearTimes() {
            scoring.clear();
            training.clear();
        }

        @Override
        public void close() {
            updater.close();
            replicas.close();
            reference.close();
            policy.close();
        }
    }

    /** The weight products of one update: the scoring forwards of policy and reference, then every minibatch step. */
    private static GemmRoofline roofline(BenchShape shape, PpoSettings settings) {
        GemmRoofline roofline = new GemmRoofline();
        for (int from = 0; from < shape.batch(); from += settings.forwardBatchSize()) {
            policyPass(roofline, shape, Math.min(settings.forwardBatchSize(), shape.batch() - from), false, 2);
        }
        policyPass(roofline, shape, shape.batch() / settings.minibatches(), true,
                (long) settings.epochs() * settings.minibatches());
        return roofline;
    }

    /** The trunk with its last block at the response-predicting positions, and the language-model head there. */
    private static void policyPass(GemmRoofline roofline, BenchShape shape, long rows, boolean backward,
            long times) {
        roofline.trunk(shape.modelConfig(), rows, shape.promptLength() + shape.newTokens(), shape.newTokens(),
                        backward, times)
                .linear(rows * shape.newTokens(), shape.dModel(), shape.vocab(), backward, times);
    }

    private static PpoSettings withoutEarlyStop(PpoSettings s) {
        return new PpoSettings(s.learningRate(), s.weightDecay(), s.maxGradNorm(), s.epochs(), s.minibatches(),
                s.clipRange(), s.valueClipRange(), s.valueCoef(), s.entropyCoef(), s.gamma(), s.lambda(),
                s.whitenAdvantages(), s.shiftAdvantageMean(), 0, s.scoreClip(), s.whitenScores(),
                s.forwardBatchSize(), s.seed(), s.kl());
    }

    private static RolloutSequences batch(BenchShape shape, SplittableRandom random) {
        List<int[]> prompts = new ArrayList<>(shape.batch());
        List<int[]> responses = new ArrayList<>(shape.batch());
        for (int b = 0; b < shape.batch(); b++) {
            prompts.add(random.ints(shape.promptLength(), 0, shape.vocab()).toArray());
            responses.add(random.ints(shape.newTokens(), 0, shape.vocab()).toArray());
        }
        return RolloutSequences.pack(prompts, responses, 0);
    }

    private static float[] scores(BenchShape shape, SplittableRandom random) {
        float[] scores = new float[shape.batch()];
        for (int b = 0; b < scores.length; b++) {
            scores[b] = (float) (random.nextDouble() * 2 - 1);
        }
        return scores;
    }
}
