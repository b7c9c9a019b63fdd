package dev.rlhf.experiment;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.bootstrap.ReviewCorpus;
import dev.rlhf.policy.generate.*;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.rewardmodel.*;
import dev.rlhf.rewardmodel.annotators.*;
import java.nio.file.Path;
import java.util.*;

public class ScratchRlhf {
    public static void main(String[] args) throws Exception {
        Config config = ConfigFactory.load();
        long t0 = System.nanoTime();
        ReviewCorpus corpus = new ReviewCorpus();
        GoldScore gold = new GoldScore();
        int nComparisons = Integer.parseInt(System.getProperty("cmp", "800"));
        int iters = Integer.parseInt(System.getProperty("iters", "20"));
        try (NDManager m = NDManager.newBaseManager(); Policy sft = Policy.load(Path.of("models/embedded-sft"), m)) {
            List<String> rmPrompts = corpus.prompts(nComparisons, 77);
            List<Comparison> comps = new ArrayList<>(ComparisonSource.fromPolicy(sft, rmPrompts, 40, 5));
            comps.addAll(ComparisonSource.fromCorpus(corpus, Integer.parseInt(System.getProperty("corpusCmp", "0")), 4, 9));
            SimulatedAnnotatorPanel panel = new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(config));
            List<JudgedComparison> judged = panel.judgeAll(comps, 1);
            SequenceEncoder encoder = new SequenceEncoder(sft.tokenizer(), sft.model().config().contextLength());
            List<PreferenceExample> examples = PreferenceExamples.from(judged, encoder);
            RewardModel rm = RewardModel.initialise(sft.model().weights().copy(m));
            try (RewardModelTrainer trainer = new RewardModelTrainer(rm, RewardTrainingSettings.from(config))) {
                TrainingResult result = trainer.fit(examples);
                System.out.println("RM best " + result.best());
            }
            List<Comparison> heldOut = ComparisonSource.fromPolicy(sft, corpus.prompts(200, 78), 40, 6);
            RewardScorer raw = new RewardScorer(rm, encoder, RewardNormalizer.IDENTITY, 64);
            System.out.println("RM gold agreement " + GoldAgreement.measure(raw, heldOut, gold));
            List<PromptResponse> ref = new ArrayList<>();
            for (Comparison c : comps) ref.add(new PromptResponse(c.prompt(), c.responseA()));
            RewardScorer scorer = raw.withNormalizer(raw.fitNormalizer(ref));
            System.out.printf("RM done %.1fs%n", (System.nanoTime() - t0) / 1e9);

            GoldEvaluation eval = new GoldEvaluation(sft.tokenizer(), corpus.prompts(128, 99), SamplingParams.sample(40, 0), 1000);
            GoldEvaluation.Estimate before = eval.evaluate(sft.generator());
            System.out.printf("gold before %.3f ± %.3f%n", before.mean(), before.ci95());
            try (PolicyLearner learner = new PolicyLearner(sft.model().weights(), m, PpoSettings.from(config))) {
                Generator gen = new Generator(learner.policy(), sft.tokenizer()::decode);
                for (int it = 0; it < iters; it++) {
                    List<String> prompts = corpus.prompts(64, 1000 + it);
                    List<int[]> ids = new ArrayList<>();
                    List<GenerationRequest> reqs = new ArrayList<>();
                    for (int i = 0; i < prompts.size(); i++) {
                        int[] p = sft.tokenizer().encode(prompts.get(i));
                        ids.add(p);
                        reqs.add(new GenerationRequest(p, SamplingParams.sample(40, it * 1000L + i)));
                    }
                    List<Completion> comps2 = gen.generate(reqs);
                    List<PromptResponse> pr = new ArrayList<>();
                    double g = 0;
                    for (int i = 0; i < prompts.size(); i++) {
                        String text = comps2.get(i).text() + (comps2.get(i).finishReason() == FinishReason.EOS ? "<|endoftext|>" : "");
                        pr.add(new PromptResponse(prompts.get(i), text));
                        g += gold.score(prompts.get(i), comps2.get(i).text());
                    }
                    double[] s = scorer.scores(pr);
                    float[] f = new float[s.length];
                    for (int i = 0; i < s.length; i++) f[i] = (float) s[i];
                    PolicyLearner.Update u = learner.learn(ids, comps2, f);
                    System.out.printf("it %d gold %.3f rm %.3f kl %.3f beta %.3f ent %.3f clip %.3f akl %.4f ep %d  %.1fs%n", it, g / prompts.size(), u.stats().meanScore(), u.stats().klToReference(), u.stats().klCoefficient(), u.stats().entropy(), u.stats().clipFraction(), u.stats().approxKl(), u.stats().epochsRun(), (System.nanoTime() - t0) / 1e9);
                }
                GoldEvaluation.Estimate after = eval.evaluate(gen);
                System.out.printf("gold after %.3f ± %.3f%n", after.mean(), after.ci95());
                for (int i = 0; i < 4; i++) System.out.println(eval.prompts().get(i) + after.completions().get(i).text());
            }
        }
    }
}
