package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains one reward-model version from judged comparisons, Bradley-Terry with early stopping: the first from a
 * fresh score head on the SFT trunk, each later one continuing from its predecessor on the newly judged comparisons
 * plus {@code replay} times as many earlier ones replayed (so it follows the policy's drift without forgetting, at a
 * fraction of the cost).
 * Normalisation statistics come from the judged responses (samples of the policy the judgments came from);
 * accuracy against gold is measured on held-out comparisons; every version is saved as a checkpoint.
 */
public final class RewardModelBuilder {
    private final GptWeights sft;
    private final Path sftDir;
    private final SequenceEncoder encoder;
    private final RewardTrainingSettings settings;
    private final List<Comparison> goldHeldOut;
    private final Path versionsRoot;
    private final int scoreBatchSize;
    private final int replay;

    /**
     * A trained version, ready to score; closing it (when it is retired) closes its model and its own tokenizer.
     *
     * @param ownTokenizer the tokenizer it reads text with when that is not the policy's; null when it is
     */
    public record Version(RewardModel model, RewardScorer scorer, RewardModelInfo info, TextTokenizer ownTokenizer)
            implements AutoCloseable {
        public Version(RewardModel model, RewardScorer scorer, RewardModelInfo info) {
            this(model, scorer, info, null);
        }

        @Override
        public void close() {
            model.close();
            if (ownTokenizer != null) {
                ownTokenizer.close();
            }
        }
    }

    /**
     * @param sftDir the policy's checkpoint, whose tokenizer files every version gets
     * @param goldHeldOut comparisons never trained on, to measure agreement with the gold preference (none when the
     *     task has no gold score: the versions then report no accuracy against gold)
     * @param versionsRoot directory the versions are saved under ({@code v1}, {@code v2}, ...)
     * @param replay earlier comparisons replayed per newly judged one when a version continues from its predecessor
     */
    public RewardModelBuilder(GptWeights sft, Path sftDir, SequenceEncoder encoder, RewardTrainingSettings settings,
            List<Comparison> goldHeldOut, Path versionsRoot, int replay) {
        this.sft = sft;
        this.sftDir = sftDir;
        this.encoder = encoder;
        this.settings = settings;
        this.goldHeldOut = List.copyOf(goldHeldOut);
        this.versionsRoot = versionsRoot;
        this.scoreBatchSize = settings.scoreBatchSize();
        this.replay = replay;
    }

    /**
     * Trains version {@code version} in a sub-manager of {@code parent}.
     *
     * @param previous the version to continue from, or null for the first
     * @param judged every judgment so far, in sequence order
     */
    public Version train(int version, Version previous, List<JudgedComparison> judged, NDManager parent)
            throws IOException {
        RewardModel model = previous == null
                ? RewardModel.initialise(sft.copy(parent))
                : RewardModel.of(previous.model().weights().copy(parent));
        if (previous != null) {
            judged = newWithReplay(judged, previous.info().trainedThroughSequence());
        }
        try {
            TrainingResult result;
            try (RewardModelTrainer trainer = new RewardModelTrainer(model, settings)) {
                result = trainer.fit(PreferenceExamples.from(judged, encoder));
            }
            RewardScorer raw = new RewardScorer(model, encoder, RewardNormalizer.IDENTITY, scoreBatchSize);
            List<PromptResponse> reference = new ArrayList<>();
            for (JudgedComparison j : judged) {
                reference.add(new PromptResponse(j.comparison().prompt(), j.comparison().responseA()));
            }
            RewardScorer scorer = raw.withNormalizer(raw.fitNormalizer(reference));
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("held_out_accuracy", result.best().heldOutAccuracy());
            metrics.put("held_out_loss", result.best().heldOutLoss());
            if (!goldHeldOut.isEmpty()) {
                GoldAgreement agreement = GoldAgreement.measure(raw, goldHeldOut, new GoldScore());
                metrics.put("accuracy_against_gold", agreement.accuracy());
                metrics.put("gold_pairs", (double) agreement.pairs());
            }
            metrics.put("judgments", (double) judged.size());
            long through = judged.stream().mapToLong(JudgedComparison::sequence).max().orElse(-1);
            if (previous != null) {
                through = Math.max(through, previous.info().trainedThroughSequence());
            }
            RewardModelInfo info = new RewardModelInfo(version, through, scorer.normalizer(), metrics, result.epochs());
            RewardModelCheckpoint.save(model, info, sftDir, RewardModelCheckpoint.versionDirectory(versionsRoot, version));
            return new Version(model, scorer, info);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }

    /**
     * Loads version {@code version} as {@link #train} saved it, in a sub-manager of {@code parent} (a resumed run
     * goes on scoring with it). A version whose tokenizer.json is the policy's encodes with the run's encoder; one
     * with a tokenizer of its own (a given reward model) reads text with that.
     *
     * @throws dev.rlhf.policy.model.CheckpointException naming the file and tensor when the version's checkpoint is
     *     incomplete
     */
    public Version load(int version, NDManager parent) {
        RewardModelCheckpoint.Loaded loaded =
                RewardModelCheckpoint.load(RewardModelCheckpoint.versionDirectory(versionsRoot, version), parent);
        if (!sharesTokenizer(RewardModelCheckpoint.versionDirectory(versionsRoot, version), sftDir)) {
            return new Version(loaded.model(), loaded.scorer(scoreBatchSize), loaded.info(), loaded.tokenizer());
        }
        loaded.tokenizer().close(); // the version encodes with the run's encoder, as the versions it trains do
        RewardScorer scorer = new RewardScorer(loaded.model(), encoder, loaded.info().normalizer(), scoreBatchSize);
        return new Version(loaded.model(), scorer, loaded.info());
    }

    /** Whether two checkpoints hold the same tokenizer.json, byte for byte. */
    public static boolean sharesTokenizer(Path checkpoint, Path other) {
        try {
            return Files.mismatch(checkpoint.resolve(RewardModelCheckpoint.TOKENIZER_JSON),
                    other.resolve(RewardModelCheckpoint.TOKENIZER_JSON)) == -1;
        } catch (IOException e) {
            throw new CheckpointException("cannot compare the tokenizers of " + checkpoint + " and " + other + ": "
                    + e.getMessage(), e);
        }
    }

    /**
     * The judgments after {@code through}, and all judgments of an evenly spaced sample of {@link #replay} times as
     * many earlier comparisons (a comparison's judgments train together, see {@link PreferenceExamples}).
     */
    private List<JudgedComparison> newWithReplay(List<JudgedComparison> judged, long through) {
        List<JudgedComparison> fresh = judged.stream().filter(j -> j.sequence() > through).toList();
        Map<Comparison, List<JudgedComparison>> old = new LinkedHashMap<>();
        judged.stream().filter(j -> j.sequence() <= through)
                .forEach(j -> old.computeIfAbsent(j.comparison(), c -> new ArrayList<>()).add(j));
        long wanted = replay * fresh.stream().map(JudgedComparison::comparison).distinct().count();
        List<List<JudgedComparison>> oldComparisons = new ArrayList<>(old.values());
        int stride = (int) Math.max(1, oldComparisons.size() / Math.max(1, wanted));
        List<JudgedComparison> mixed = new ArrayList<>(fresh);
        for (int i = 0, picked = 0; i < oldComparisons.size() && picked < wanted; i += stride, picked++) {
            mixed.addAll(oldComparisons.get(i));
        }
        return mixed;
    }
}
