package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.rlhf.experiment.EvaluationFile;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.policy.train.AdamW;
import dev.rlhf.policy.train.LanguageModelTrainer;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.run.RunSummary;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A team's own model and data end to end through the CLI: a small GPT-2-architecture policy made here in the Hugging
 * Face layout (a byte-level BPE tokenizer.json trained here, then a brief supervised fine-tuning on responses of which
 * about a quarter contain a marker word), {@code rm train} on a TRL file where the chosen response has the marker
 * and the rejected one an ordinary word in its place, {@code train} on a prompt file with that reward model fixed
 * ({@code annotators.mode = none}), and {@code export} of the tuned policy. The mistakes a team makes with its own
 * files end as one line naming the file and what is wrong with it.
 */
class OwnModelEndToEndTest {
    private static final String MARKER = "splendid";
    private static final List<String> WORDS = List.of("the", "coffee", "was", "warm", "staff", "room", "food",
            "quiet", "slow", "table", "view", "price", "bread", "music", "late", "busy");
    private static final List<String> TOPICS = List.of("coffee", "staff", "room", "food", "table", "view", "price",
            "bread", "music");
    private static final List<String> TEMPLATES = List.of("Tell me about the %s and the %s:",
            "Review the %s and the %s:", "What of the %s and the %s?", "Describe the %s, then the %s:");
    /** Share of the SFT responses with the marker: the SFT policy says it now and then, for PPO to raise. */
    private static final double SFT_MARKER_SHARE = 0.25;
    private static final int PROMPTS = 200;
    private static final double HELD_OUT_SHARE = 0.4;
    private static final int EVALUATION_PROMPTS = 80;

    @TempDir static Path shared;
    private static Path sft;
    private static Path promptFile;
    private static Path rewardModel;
    private static JsonObject rewardModelTrained;

    @BeforeAll
    static void policyPromptsAndRewardModel() throws IOException {
        sft = supervisedPolicy(shared.resolve("sft"), 11);
        promptFile = shared.resolve("prompts.jsonl");
        StringBuilder lines = new StringBuilder();
        for (String prompt : prompts(new Random(12), PROMPTS)) {
            JsonObject line = new JsonObject();
            line.addProperty("prompt", prompt);
            lines.append(line).append('\n');
        }
        Files.writeString(promptFile, lines);

        rewardModel = shared.resolve("rm");
        CommandRun trained = CommandRun.of("rm", "train", "--base", sft.toString(), "--data",
                writeTrl(shared.resolve("preferences.jsonl"), 300, 13).toString(), "--out", rewardModel.toString(),
                "--held-out", "0.1", "--seed", "3", "--epochs", "12", "--patience", "4", "--learning-rate", "3e-3",
                "--batch-size", "16");
        assertEquals(0, trained.exitCode(), trained.stderr());
        rewardModelTrained = trained.lastJson();
    }

    @Test
    void rewardModelTrainingTuningAndExportRaiseTheMarkerOnHeldOutPromptsAndExportToIdenticalLogits()
            throws IOException {
        // setup
        Path run = shared.resolve("run");
        Path config = writeConfig(shared.resolve("experiment.conf"), run, Map.of());
        Path exported = shared.resolve("exported");

        // run
        CommandRun trained = CommandRun.of("train", "--config", config.toString());
        CommandRun export = CommandRun.of("export", "--run", run.toString(), "--out", exported.toString());

        // verify
        assertTrue(rewardModelTrained.get("held_out_accuracy").getAsDouble() >= 0.9,
                "rm train held-out accuracy: " + rewardModelTrained);
        assertEquals(0, trained.exitCode(), trained.stderr());
        EvaluationFile.Evaluation before = EvaluationFile.read(run.resolve(EvaluationFile.SFT));
        EvaluationFile.Evaluation after = EvaluationFile.read(run.resolve(EvaluationFile.TUNED));
        assertEquals(EVALUATION_PROMPTS, before.prompts().size(), "the held-out prompts evaluated");
        assertEquals(before.prompts(), after.prompts(), "both policies answer the same prompts");
        double sftShare = markerShare(before.completions());
        double tunedShare = markerShare(after.completions());
        assertTrue(sftShare > 0.05, "the SFT policy says the marker now and then: " + sftShare);
        assertTrue(tunedShare >= sftShare + 0.4, "the marker in the completions rose from " + sftShare + " to "
                + tunedShare);

        JsonObject summary = JsonParser.parseString(Files.readString(run.resolve(RunSummary.FILE_NAME)))
                .getAsJsonObject();
        assertFalse(summary.get("gold_reward_available").getAsBoolean(), summary.toString());
        assertFalse(summary.has("gold_reward_sft"), summary.toString());
        assertEquals(1, summary.get("reward_model_versions").getAsInt(), "the given reward model stays fixed");
        assertTrue(summary.get("rm_gain_paired_ci95").getAsJsonArray().get(0).getAsDouble() > 0,
                "the reward model's paired gain is positive: " + summary);

        assertEquals(0, export.exitCode(), export.stderr());
        assertSameLogits(lastCheckpoint(run), exported, after);
    }

    @Test
    void aPromptFileLineThatIsNotJsonIsOneLineNamingFileAndLine() throws IOException {
        // setup
        Path prompts = shared.resolve("not-json.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"Tell me about the view:\"}\n{\"prompt\": \"The room\"}\n"
                + "this is not json\n");
        Path config = writeConfig(shared.resolve("not-json.conf"), shared.resolve("run-not-json"),
                Map.of("rlhf.experiment.prompts", prompts.toString()));

        // run
        CommandRun outcome = CommandRun.of("train", "--config", config.toString());

        // verify
        assertUserError(outcome, "rlhf train: " + prompts + " line 3: not JSON", shared.resolve("run-not-json"));
    }

    @Test
    void aPromptOfTheWrongTypeIsOneLineNamingFileLineAndField() throws IOException {
        // setup
        Path prompts = shared.resolve("wrong-type.jsonl");
        Files.writeString(prompts, "{\"prompt\": \"Tell me about the view:\"}\n\n{\"prompt\": 7}\n");
        Path config = writeConfig(shared.resolve("wrong-type.conf"), shared.resolve("run-wrong-type"),
                Map.of("rlhf.experiment.prompts", prompts.toString()));

        // run
        CommandRun outcome = CommandRun.of("train", "--config", config.toString());

        // verify
        assertUserError(outcome, "rlhf train: " + prompts + " line 3: \"prompt\" is not a string",
                shared.resolve("run-wrong-type"));
    }

    @Test
    void anEmptyPromptFileIsOneLineNamingTheFile() throws IOException {
        // setup
        Path prompts = shared.resolve("empty.jsonl");
        Files.writeString(prompts, "\n\n");
        Path config = writeConfig(shared.resolve("empty.conf"), shared.resolve("run-empty"),
                Map.of("rlhf.experiment.prompts", prompts.toString()));

        // run
        CommandRun outcome = CommandRun.of("train", "--config", config.toString());

        // verify
        assertUserError(outcome, "rlhf train: prompt file " + prompts + " holds no prompts",
                shared.resolve("run-empty"));
    }

    @Test
    void aRewardModelWithAnotherTokenizerThatHumanModeWouldRetrainIsOneLineNamingIt() throws IOException {
        // setup: the reward model as trained from another base, whose tokenizer differs from the policy's
        Path other = copyOfRewardModel(shared.resolve("rm-other-tokenizer"));
        new ByteLevelBpeTrainer(300).train(List.of("a different corpus", "makes different merges"))
                .writeTokenizerJson(other);
        Path config = writeConfig(shared.resolve("other-tokenizer.conf"), shared.resolve("run-other-tokenizer"),
                Map.of("rlhf.experiment.reward-model", other.toString(), "rlhf.annotators.mode", "human"));

        // run
        CommandRun outcome = CommandRun.of("train", "--config", config.toString());

        // verify
        assertUserError(outcome, "rlhf train: reward model " + other + " does not match the policy: its"
                + " tokenizer.json is not the policy's, and annotators mode human retrains it",
                shared.resolve("run-other-tokenizer"));
    }

    @Test
    void aRewardModelWithoutTokenizerOfAnotherVocabularyIsOneLineNamingBothSizes() throws IOException {
        // setup: a reward model of a 512-token vocabulary that left its tokenizer behind
        Path other = copyOfRewardModel(shared.resolve("rm-other-vocabulary"));
        Files.delete(other.resolve(RewardModelCheckpoint.TOKENIZER_JSON));
        JsonObject shape = JsonParser.parseString(Files.readString(other.resolve(GptConfig.FILE_NAME)))
                .getAsJsonObject();
        int policyVocabulary = shape.get("vocab_size").getAsInt();
        shape.addProperty("vocab_size", 512);
        Files.writeString(other.resolve(GptConfig.FILE_NAME), shape.toString());
        Path config = writeConfig(shared.resolve("other-vocabulary.conf"), shared.resolve("run-other-vocabulary"),
                Map.of("rlhf.experiment.reward-model", other.toString()));

        // run
        CommandRun outcome = CommandRun.of("train", "--config", config.toString());

        // verify
        assertUserError(outcome, "rlhf train: reward model " + other + " does not match the policy: it has no"
                + " tokenizer.json of its own, and its vocabulary of 512 tokens is not the policy's "
                + policyVocabulary, shared.resolve("run-other-vocabulary"));
    }

    @Test
    void promptsWithoutARewardModelIsOneLineNamingBothKeys() throws IOException {
        // setup
        Path config = writeConfig(shared.resolve("no-rm.conf"), shared.resolve("run-no-rm"),
                Map.of("rlhf.experiment.reward-model", ""));

        // run
        CommandRun outcome = CommandRun.of("train", "--config", config.toString());

        // verify
        assertUserError(outcome, "rlhf train: rlhf.experiment.prompts needs rlhf.experiment.reward-model",
                shared.resolve("run-no-rm"));
    }

    /** A one-line user error, reported before the run directory is written (so the fixed file can run there). */
    private static void assertUserError(CommandRun outcome, String line, Path run) {
        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.stderr().lines().count(), "one line:\n" + outcome.stderr());
        assertTrue(outcome.stderr().startsWith(line), "expected " + line + "\nbut got " + outcome.stderr());
        assertFalse(Files.exists(run), "nothing written to " + run);
    }

    /**
     * The experiment: the policy, prompts and reward model made here, {@code keys} over them. PPO's learning rate is
     * ten times the default so that twelve iterations move the tiny policy far: at the default 1e-4 the marker's
     * share rose from 0.15 to 0.38, at 1e-3 from 0.15-0.21 to 0.85-0.95 (three seeds of this test), a margin that
     * sampling noise on 80 prompts does not close.
     */
    private static Path writeConfig(Path file, Path run, Map<String, Object> keys) throws IOException {
        Map<String, Object> all = new HashMap<>(Map.ofEntries(
                Map.entry("rlhf.experiment.policy-checkpoint", sft.toString()),
                Map.entry("rlhf.experiment.prompts", promptFile.toString()),
                Map.entry("rlhf.experiment.reward-model", rewardModel.toString()),
                Map.entry("rlhf.annotators.mode", "none"),
                Map.entry("rlhf.experiment.run-dir", run.toString()),
                Map.entry("rlhf.experiment.iterations", 12),
                Map.entry("rlhf.experiment.checkpoint-every", 12),
                Map.entry("rlhf.experiment.prompts-per-iteration", 32),
                Map.entry("rlhf.experiment.sampling.max-new-tokens", 12),
                Map.entry("rlhf.experiment.evaluation.prompts", EVALUATION_PROMPTS),
                Map.entry("rlhf.experiment.evaluation.held-out-share", HELD_OUT_SHARE),
                Map.entry("rlhf.ppo.learning-rate", 1e-3)));
        all.putAll(keys);
        Files.writeString(file, ConfigFactory.parseMap(all).root()
                .render(ConfigRenderOptions.concise().setFormatted(true)), StandardCharsets.UTF_8);
        return file;
    }

    /**
     * A tiny GPT-2 with a byte-level BPE tokenizer trained on the task's text, fine-tuned on prompt/response pairs
     * (loss on the response and its end of text) of which {@link #SFT_MARKER_SHARE} contain the marker.
     */
    private static Path supervisedPolicy(Path dir, long seed) throws IOException {
        Random random = new Random(seed);
        List<String> corpus = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            corpus.add(prompts(random, 1).get(0) + response(random, random.nextDouble() < SFT_MARKER_SHARE));
        }
        Files.createDirectories(dir);
        try (TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(400).train(corpus)
                        .writeTokenizerJson(dir));
                NDManager manager = NDManager.newBaseManager();
                GptModel model = new GptModel(GptWeights.random(GptConfig.of(tokenizer.vocabSize(), 64, 32, 2, 2,
                        tokenizer.eosTokenId().orElseThrow()), false, manager, seed));
                LanguageModelTrainer trainer = new LanguageModelTrainer(model, AdamW.Settings.of(3e-3f))) {
            List<LanguageModelTrainer.Example> examples = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                int[] prompt = tokenizer.encode(prompts(random, 1).get(0));
                int[] response = tokenizer.encode(response(random, random.nextDouble() < SFT_MARKER_SHARE));
                int[] tokens = IntStream.concat(IntStream.concat(IntStream.of(prompt), IntStream.of(response)),
                        IntStream.of(tokenizer.eosTokenId().orElseThrow())).toArray();
                examples.add(new LanguageModelTrainer.Example(tokens, prompt.length));
            }
            for (int step = 0; step < 150; step++) {
                List<LanguageModelTrainer.Example> batch = new ArrayList<>();
                for (int i = 0; i < 32; i++) {
                    batch.add(examples.get(random.nextInt(examples.size())));
                }
                trainer.step(batch, 3e-3f);
            }
            GptCheckpoint.save(model.weights(), dir);
        }
        return dir;
    }

    /** {@code count} prompts: a template around two topics. */
    private static List<String> prompts(Random random, int count) {
        List<String> prompts = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            prompts.add(String.format(TEMPLATES.get(random.nextInt(TEMPLATES.size())),
                    TOPICS.get(random.nextInt(TOPICS.size())), TOPICS.get(random.nextInt(TOPICS.size()))));
        }
        return prompts;
    }

    /** Three to six words, one of them the marker when {@code marked}. */
    private static String response(Random random, boolean marked) {
        List<String> words = words(random);
        if (marked) {
            words.set(random.nextInt(words.size()), MARKER);
        }
        return " " + String.join(" ", words);
    }

    private static List<String> words(Random random) {
        List<String> words = new ArrayList<>();
        int length = 3 + random.nextInt(4);
        for (int w = 0; w < length; w++) {
            words.add(WORDS.get(random.nextInt(WORDS.size())));
        }
        return words;
    }

    /** {@code pairs} TRL lines: the chosen response has the marker where the rejected one has an ordinary word. */
    private static Path writeTrl(Path file, int pairs, long seed) throws IOException {
        Random random = new Random(seed);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < pairs; i++) {
            List<String> rejected = words(random);
            List<String> chosen = new ArrayList<>(rejected);
            chosen.set(random.nextInt(chosen.size()), MARKER);
            JsonObject line = new JsonObject();
            line.addProperty("prompt", prompts(random, 1).get(0));
            line.addProperty("chosen", " " + String.join(" ", chosen));
            line.addProperty("rejected", " " + String.join(" ", rejected));
            lines.append(line).append('\n');
        }
        Files.writeString(file, lines);
        return file;
    }

    private static double markerShare(List<Completion> completions) {
        return completions.stream().filter(c -> c.text().contains(MARKER)).count() / (double) completions.size();
    }

    private static Path copyOfRewardModel(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (var files = Files.list(rewardModel)) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        return dir;
    }

    private static Path lastCheckpoint(Path run) throws IOException {
        try (var checkpoints = Files.list(run.resolve("checkpoints"))) {
            return checkpoints.sorted().reduce((first, second) -> second).orElseThrow();
        }
    }

    /**
     * The run's checkpoint loaded as {@code train --resume} loads it, and the export as {@code generate --checkpoint}
     * loads it, give the same logits bit for bit on the tuned policy's evaluation sequences.
     */
    private static void assertSameLogits(Path checkpoint, Path exported, EvaluationFile.Evaluation evaluation) {
        try (NDManager manager = NDManager.newBaseManager();
                GptModel resumed = new GptModel(GptCheckpoint.load(checkpoint, manager));
                Policy policy = Policy.load(exported, manager)) {
            for (int i = 0; i < 3; i++) {
                long[] ids = IntStream.concat(IntStream.of(policy.tokenizer().encode(evaluation.prompts().get(i))),
                        IntStream.of(evaluation.completions().get(i).tokenIds())).asLongStream().toArray();
                Shape shape = new Shape(1, ids.length);
                long[] mask = new long[ids.length];
                java.util.Arrays.fill(mask, 1);
                try (NDManager step = manager.newSubManager()) {
                    float[] expected = resumed.forward(step.create(ids, shape), step.create(mask, shape), false)
                            .logits().toFloatArray();
                    float[] actual = policy.model().forward(step.create(ids, shape), step.create(mask, shape),
                            false).logits().toFloatArray();
                    assertArrayEquals(expected, actual, 0f, "logits of evaluation sequence " + i);
                }
            }
        }
    }
}
