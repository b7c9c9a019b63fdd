package dev.rlhf.experiment;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.GoldAgreement;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.PreferenceExamples;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardModelTrainer;
import dev.rlhf.rewardmodel.RewardNormalizer;
import dev.rlhf.rewardmodel.RewardScorer;
import dev.rlhf.rewardmodel.RewardTrainingSettings;
import dev.rlhf.rewardmodel.SequenceEncoder;
import dev.rlhf.rewardmodel.TrainingResult;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trains one reward-model version from judged comparisons: a fresh score head on the SFT trunk, Bradley-Terry
 * training with early stopping, normalisation statistics from the judged responses (samples of the policy the
 * judgments came from), accuracy against gold on held-out comparisons, and a versioned checkpoint.
 */
public final class RewardModelBuilder {
    private final GptWeights sft;
    private final Path sftDir;
    private final SequenceEncoder encoder;
    private final RewardTrainingSettings settings;
    private final List<Comparison> goldHeldOut;
    private final Path versionsRoot;
    private final int scoreBatchSize;

    /** A trained version, ready to score. The caller closes {@code model} when the version is retired. */
    public record Version(RewardModel model, RewardScorer scorer, RewardModelInfo info) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

    /**
     * @param goldHeldOut comparisons never trained on, to measure agreement with the gold preference
     * @param versionsRoot directory the versions are saved under ({@code v1}, {@code v2}, ...)
     */
    public RewardModelBuilder(GptWeights sft, Path sftDir, SequenceEncoder encoder, RewardTrainingSettings settings,
            List<Comparison> goldHeldOut, Path versionsRoot) {
        this.sft = sft;
        this.sftDir = sftDir;
        this.encoder = encoder;
        this.settings = settings;
        this.goldHeldOut = List.copyOf(goldHeldOut);
        this.versionsRoot = versionsRoot;
        this.scoreBatchSize = settings.scoreBatchSize();
    }

    /** Trains version {@code version} on {@code judged} in a sub-manager of {@code parent}. */
    public Version train(int version, List<JudgedComparison> judged, NDManager parent) throws IOException {
        RewardModel model = RewardModel.initialise(sft.copy(parent));
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
            GoldAgreement agreement = GoldAgreement.measure(raw, goldHeldOut, new GoldScore());
            Map<String, Double> metrics = new LinkedHashMap<>();
            metrics.put("held_out_accuracy", result.best().heldOutAccuracy());
            metrics.put("held_out_loss", result.best().heldOutLoss());
            metrics.put("accuracy_against_gold", agreement.accuracy());
            metrics.put("judgments", (double) judged.size());
            long through = judged.stream().mapToLong(JudgedComparison::sequence).max().orElse(-1);
            RewardModelInfo info = new RewardModelInfo(version, through, scorer.normalizer(), metrics, result.epochs());
            RewardModelCheckpoint.save(model, info, sftDir, RewardModelCheckpoint.versionDirectory(versionsRoot, version));
            return new Version(model, scorer, info);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
    }
}
