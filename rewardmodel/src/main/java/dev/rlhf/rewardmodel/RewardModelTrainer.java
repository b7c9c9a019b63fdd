package dev.rlhf.rewardmodel;

import dev.rlhf.policy.model.TorchOps;
import dev.rlhf.policy.train.Gradients;
import dev.rlhf.policy.train.Replicas;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import dev.rlhf.policy.train.AdamW;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a {@link RewardModel} on preference pairs with the {@link BradleyTerryLoss}, AdamW and global gradient
 * clipping, in minibatches; keeps a held-out split and stops early once its loss stops improving, leaving the
 * model with the weights of the best epoch.
 *
 * <p>Ties and skips carry no order and never become votes of a {@link PreferenceExample}, so they are left out of
 * training (see {@code PreferenceExamples}); the Bradley–Terry likelihood has no term for them. All votes on a pair
 * share its forward pass, and the held-out split is by pair, so no judgment of a held-out comparison is trained on.
 *
 * <p>Each step scores chosen and rejected sequences in one forward pass over {@link SharedPrefixPairs} (a row per
 * pair, the shared prompt computed once), inside a sub-manager closed at the end of the step.
 */
public final class RewardModelTrainer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RewardModelTrainer.class);

    private final RewardModel model;
    private final Replicas<RewardModel> replicas;
    private final RewardTrainingSettings settings;
    private final AdamW optimizer;

    /** A trainer of {@code model} in place, on {@code settings.replicas()} replicas; the caller keeps the model. */
    public RewardModelTrainer(RewardModel model, RewardTrainingSettings settings) {
        this.model = model;
        this.replicas = Replicas.of(model, RewardModel::weights, RewardModel::of, settings.replicas());
        this.settings = settings;
        this.optimizer = new AdamW(model.weights().tensors(), settings.optimizer());
    }

    /**
     * One optimiser step on {@code pairs}; returns their mean loss before the update. The pairs are split into one
     * contiguous share per replica, whose gradients add up to the batch's.
     *
     * @throws IllegalArgumentException if {@code pairs} is empty
     */
    public float step(List<PreferenceExample> pairs) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("pairs must not be empty");
        }
        float rate = settings.learningRate() * Math.min(1f, (optimizer.steps() + 1f) / (settings.warmupSteps() + 1f));
        int n = pairs.size();
        int shares = Math.min(n, replicas.count());
        float votes = pairs.stream().mapToInt(p -> p.votes().size()).sum();
        List<Float> losses;
        try (GradientCollector collector = Gradients.collect()) {
            losses = replicas.map(shares, (share, replica) -> {
                List<PreferenceExample> part = pairs.subList(n * share / shares, n * (share + 1) / shares);
                try (NDManager step = replica.weights().manager().newSubManager()) {
                    NDArray scores = replica.pairScores(SharedPrefixPairs.pack(part, step));
                    NDArray value = BradleyTerryLoss.shareOfMean(scores.get(":, 0"), scores.get(":, 1"),
                            VoteTable.of(part, settings, step), votes);
                    float loss = value.getFloat();
                    collector.backward(value);
                    return loss;
                }
            });
            replicas.reduceGradients();
            optimizer.step(rate, replicas); // inside the turn: see Gradients
        }
        replicas.broadcast();
        float loss = 0;
        for (float share : losses) {
            loss += share;
        }
        return loss;
    }

    /**
     * Loss and accuracy over the votes of {@code pairs} (the share of votes whose preferred response scores
     * higher), without gradients, {@code scoreBatchSize} sequences per pass.
     */
    public PairEvaluation evaluate(List<PreferenceExample> pairs) {
        return evaluate(model, pairs, settings);
    }

    /**
     * Loss and accuracy of {@code model} over the votes of {@code pairs}, as {@link #evaluate(List)} measures them
     * during training (margins and score batch size from {@code settings}), for a model that is not being trained.
     */
    public static PairEvaluation evaluate(RewardModel model, List<PreferenceExample> pairs,
            RewardTrainingSettings settings) {
        int chunk = Math.max(1, settings.scoreBatchSize() / 2);
        double lossSum = 0;
        long agreeing = 0;
        long votes = 0;
        for (int start = 0; start < pairs.size(); start += chunk) {
            List<PreferenceExample> part = pairs.subList(start, Math.min(pairs.size(), start + chunk));
            try (NDManager step = model.weights().manager().newSubManager()) {
                NDArray scores = model.pairScores(SharedPrefixPairs.pack(part, step));
                NDArray chosen = scores.get(":, 0");
                NDArray rejected = scores.get(":, 1");
                VoteTable.Arrays table = VoteTable.of(part, settings, step);
                long partVotes = part.stream().mapToLong(p -> p.votes().size()).sum();
                lossSum += BradleyTerryLoss.loss(chosen, rejected, table).getFloat() * partVotes;
                agreeing += BradleyTerryLoss.directedDifference(chosen, rejected, table).gt(0f)
                        .toType(DataType.FLOAT32, false).mul(table.weights()).sum().getFloat();
                votes += partVotes;
            }
        }
        return new PairEvaluation(votes == 0 ? Double.NaN : lossSum / votes,
                votes == 0 ? Double.NaN : (double) agreeing / votes, pairs.size());
    }

    /**
     * Splits {@code examples} into training and held-out pairs (seeded), trains for up to {@code maxEpochs}
     * epochs, logs an {@link EpochReport} per epoch, stops after {@code patience} epochs without a lower
     * held-out loss, and restores the weights of the best epoch.
     *
     * @throws IllegalArgumentException if the split leaves either side empty
     */
    public TrainingResult fit(List<PreferenceExample> examples) {
        return fit(examples, report -> { });
    }

    /** As {@link #fit(List)}, handing each epoch's report to {@code onEpoch} as soon as the epoch ends. */
    public TrainingResult fit(List<PreferenceExample> examples, Consumer<EpochReport> onEpoch) {
        List<PreferenceExample> shuffled = new ArrayList<>(examples);
        Collections.shuffle(shuffled, new Random(settings.seed()));
        int heldOutSize = (int) Math.round(shuffled.size() * settings.heldOutFraction());
        if (heldOutSize == 0 || heldOutSize == shuffled.size()) {
            throw new IllegalArgumentException("a held-out fraction of " + settings.heldOutFraction() + " of "
                    + shuffled.size() + " pairs leaves no pairs on one side");
        }
        List<PreferenceExample> heldOut = List.copyOf(shuffled.subList(0, heldOutSize));
        List<PreferenceExample> train = new ArrayList<>(shuffled.subList(heldOutSize, shuffled.size()));
        Random order = new Random(settings.seed() + 1);

        List<EpochReport> reports = new ArrayList<>();
        int bestEpoch = 0;
        double bestLoss = Double.POSITIVE_INFINITY;
        try (NDManager snapshots = model.weights().manager().newSubManager()) {
            Map<String, NDArray> best = null;
            for (int epoch = 1; epoch <= settings.maxEpochs(); epoch++) {
                long started = System.nanoTime();
                Collections.shuffle(train, order);
                double lossSum = 0;
                int steps = 0;
                for (int start = 0; start < train.size(); start += settings.batchSize()) {
                    lossSum += step(train.subList(start, Math.min(train.size(), start + settings.batchSize())));
                    steps++;
                }
                PairEvaluation held = evaluate(heldOut);
                EpochReport report = new EpochReport(epoch, lossSum / steps, held.loss(), held.accuracy(),
                        (System.nanoTime() - started) / 1e9);
                reports.add(report);
                onEpoch.accept(report);
                LOG.info("reward model epoch {}: train loss {} held-out loss {} accuracy {} ({} s)", epoch,
                        fmt(report.trainLoss()), fmt(report.heldOutLoss()), fmt(report.heldOutAccuracy()),
                        String.format("%.1f", report.seconds()));
                if (held.loss() < bestLoss) {
                    bestLoss = held.loss();
                    bestEpoch = epoch;
                    if (best != null) {
                        best.values().forEach(NDArray::close);
                    }
                    best = snapshot(snapshots);
                } else if (epoch - bestEpoch >= settings.patience()) {
                    LOG.info("reward model: held-out loss has not improved for {} epochs; stopping, best epoch {}",
                            settings.patience(), bestEpoch);
                    break;
                }
            }
            if (bestEpoch != reports.size()) {
                restore(best);
                replicas.broadcast();
            }
        }
        return new TrainingResult(reports, bestEpoch, train.size(), heldOut.size());
    }

    public AdamW optimizer() {
        return optimizer;
    }

    private Map<String, NDArray> snapshot(NDManager manager) {
        Map<String, NDArray> copies = new LinkedHashMap<>();
        model.weights().tensors().forEach((name, array) -> {
            NDArray copy = array.duplicate();
            copy.attach(manager);
            copies.put(name, copy);
        });
        return copies;
    }

    private void restore(Map<String, NDArray> snapshot) {
        snapshot.forEach((name, copy) -> TorchOps.copyInto(model.weights().get(name), copy));
    }

    private static String fmt(double value) {
        return String.format("%.4f", value);
    }

    @Override
    public void close() {
        optimizer.close();
        replicas.close();
    }
}
