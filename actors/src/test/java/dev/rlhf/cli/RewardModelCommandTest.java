package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardScorer;
import dev.rlhf.serve.RewardModelVersions;
import dev.rlhf.serve.RewardServeSettings;
import dev.rlhf.store.PreferencePair;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rm train} and {@code rm eval} on a tiny GPT-2-architecture checkpoint made here in the Hugging Face layout
 * (a byte-level BPE tokenizer.json trained here), on TRL files where the preference is learnable: the chosen
 * response contains a marker word, the rejected one a plain word in its place.
 */
class RewardModelCommandTest {
    private static final String MARKER = "splendid";
    private static final List<String> WORDS = List.of("the", "coffee", "was", "warm", "staff", "room", "food",
            "quiet", "slow", "table", "view", "price", "bread", "music", "late", "busy");
    private static final List<String> PROMPTS = List.of("Review of the cafe:", "The hotel was", "Our dinner:",
            "Say something about the bakery:");

    @TempDir static Path shared;
    private static Path base;


    @BeforeAll
    static void tinyCheckpoint() throws IOException {
        base = shared.resolve("base");
        Files.createDirectories(base);
        List<String> corpus = new ArrayList<>(PROMPTS);
        corpus.add(String.join(" ", WORDS) + " " + MARKER + " plain");
        TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300).train(corpus)
                .writeTokenizerJson(base));
        GptConfig config = GptConfig.of(tokenizer.vocabSize(), 64, 32, 2, 2, -1);
        tokenizer.close();
        try (NDManager manager = NDManager.newBaseManager()) {
            GptWeights weights = GptWeights.random(config, false, manager, 7);
            GptCheckpoint.save(weights, base);
            weights.close();
        }
    }

    @Test
    void trainReachesHeldOutAccuracyAndWritesAModelTheRewardServiceLoads() throws IOException {
        // setup
        Path train = writeTrl(shared.resolve("train.jsonl"), 300, 1);
        Path test = writeTrl(shared.resolve("test.jsonl"), 100, 2);
        Path out = shared.resolve("rm-out");

        // run
        CommandRun trained = CommandRun.of("rm", "train", "--base", base.toString(), "--data", train.toString(),
                "--out", out.toString(), "--held-out", "0.1", "--seed", "3", "--epochs", "12", "--patience", "4",
                "--learning-rate", "3e-3", "--batch-size", "16");

        // verify
        assertEquals(0, trained.exitCode(), trained.stderr());
        JsonObject json = trained.lastJson();
        assertTrue(json.get("held_out_accuracy").getAsDouble() >= 0.9, "held-out accuracy: " + trained);
        assertTrue(json.get("held_out_loss").getAsDouble() < Math.log(2), "held-out loss: " + json);
        assertEquals(270, json.get("pairs_train").getAsInt(), json.toString());
        assertEquals(30, json.get("pairs_held_out").getAsInt(), json.toString());
        assertEquals(out.toAbsolutePath().toString(), json.get("output").getAsString());
        assertTrue(trained.stderr().contains("rm train: epoch 1/12 "), "progress per epoch:\n" + trained.stderr());

        // the directory loads as RewardService loads what it serves, and orders a pair as the data does
        RewardModelInfo info = RewardModelInfo.read(out); // what RewardModelVersions lists a checkpoint by
        assertEquals(1, info.version());
        assertEquals(json.get("held_out_accuracy").getAsDouble(), info.metrics().get("held_out_accuracy"));
        RewardServeSettings served = RewardServeSettings.fromConfig(ConfigFactory.load()).withModel(out);
        try (NDManager manager = NDManager.newBaseManager();
                RewardModelVersions versions = RewardModelVersions.open(served, manager)) {
            RewardModelCheckpoint.Loaded loaded = RewardModelCheckpoint.load(out, manager);
            try (loaded) {
                RewardScorer scorer = loaded.scorer(8);
                double[] scores = scorer.scores(List.of(
                        new PromptResponse("The hotel was", " quiet staff " + MARKER + " view late"),
                        new PromptResponse("The hotel was", " quiet staff plain view late")));
                assertTrue(scores[0] > scores[1], "chosen " + scores[0] + " vs rejected " + scores[1]);
            }
            assertEquals(out, versions.dir());
        }

        CommandRun evaluated = CommandRun.of("rm", "eval", "--reward-model", out.toString(), "--data", test.toString());
        assertEquals(0, evaluated.exitCode(), evaluated.stderr());
        JsonObject eval = evaluated.lastJson();
        assertTrue(eval.get("accuracy").getAsDouble() >= 0.9, "eval: " + eval);
        assertEquals(100, eval.get("pairs").getAsInt(), eval.toString());

        CommandRun again = CommandRun.of("rm", "train", "--base", base.toString(), "--data", train.toString(),
                "--out", out.toString());
        assertEquals(CliErrors.USER_ERROR, again.exitCode(), again.stderr());
        assertTrue(again.stderr().contains("is not empty"), again.stderr());
    }

    @Test
    void theFormatDefaultsFromTheFirstLinesKeys(@TempDir Path dir) throws IOException {
        Path hh = dir.resolve("hh.jsonl");
        Files.writeString(hh, """
                {"chosen": "\\n\\nHuman: Hi there\\n\\nAssistant: splendid view", \
                "rejected": "\\n\\nHuman: Hi there\\n\\nAssistant: plain view"}
                """);
        Path trl = writeTrl(dir.resolve("trl.jsonl"), 3, 5);

        PreferenceDataFile hhData = PreferenceDataFile.read(hh, null);
        PreferenceDataFile trlData = PreferenceDataFile.read(trl, null);

        assertEquals("hh", hhData.formatName());
        assertEquals(new PreferencePair("Hi there", "splendid view", "plain view"), hhData.pairs().get(0));
        assertEquals("trl", trlData.formatName());
        assertEquals(3, trlData.pairs().size());
    }

    @Test
    void aLineThatIsNotJsonIsOneLineNamingFileAndLine(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, """
                {"prompt": "a", "chosen": " b", "rejected": " c"}
                {"prompt": "a", "chosen": " b", "rejected": " c"}
                this is not json
                """);

        CommandRun outcome = CommandRun.of("rm", "train", "--base", base.toString(), "--data", data.toString(),
                "--out", dir.resolve("out").toString());

        assertUserError(outcome, "rlhf rm train: " + data + " line 3: not JSON");
        assertFalse(Files.exists(dir.resolve("out")), "nothing trained");
    }

    @Test
    void aMissingChosenIsOneLineNamingFileLineAndField(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, """
                {"prompt": "a", "chosen": " b", "rejected": " c"}

                {"prompt": "a", "rejected": " c"}
                """);

        CommandRun outcome = CommandRun.of("rm", "train", "--base", base.toString(), "--data", data.toString(),
                "--out", dir.resolve("out").toString(), "--format", "trl");

        assertUserError(outcome, "rlhf rm train: " + data + " line 3: field \"chosen\" must be a string");
        CommandRun eval = CommandRun.of("rm", "eval", "--reward-model", dir.toString(), "--data", data.toString());
        assertEquals(CliErrors.USER_ERROR, eval.exitCode(), eval.stderr());
    }

    @Test
    void aBaseThatIsNotACheckpointIsOneLineNamingTheMissingFile(@TempDir Path dir) throws IOException {
        Path data = writeTrl(dir.resolve("data.jsonl"), 10, 4);
        Path notCheckpoint = dir.resolve("not-a-checkpoint");
        Files.createDirectories(notCheckpoint);
        Files.copy(base.resolve(GptConfig.FILE_NAME), notCheckpoint.resolve(GptConfig.FILE_NAME));
        Files.copy(base.resolve(GptCheckpoint.WEIGHTS_FILE), notCheckpoint.resolve(GptCheckpoint.WEIGHTS_FILE));

        CommandRun outcome = CommandRun.of("rm", "train", "--base", notCheckpoint.toString(), "--data", data.toString());

        assertUserError(outcome, "rlhf rm train: --base " + notCheckpoint + " is not a checkpoint: it has no"
                + " tokenizer.json");
    }

    private static void assertUserError(CommandRun outcome, String line) {
        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.stderr().lines().count(), "one line:\n" + outcome.stderr());
        assertTrue(outcome.stderr().startsWith(line), "expected " + line + "\nbut got " + outcome.stderr());
    }

    /** {@code pairs} TRL lines: the chosen response has the marker where the rejected one has "plain". */
    private static Path writeTrl(Path file, int pairs, long seed) throws IOException {
        Random random = new Random(seed);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < pairs; i++) {
            List<String> words = new ArrayList<>();
            int length = 3 + random.nextInt(4);
            for (int w = 0; w < length; w++) {
                words.add(WORDS.get(random.nextInt(WORDS.size())));
            }
            int at = random.nextInt(length + 1);
            List<String> chosen = new ArrayList<>(words);
            chosen.add(at, MARKER);
            List<String> rejected = new ArrayList<>(words);
            rejected.add(at, "plain");
            JsonObject line = new JsonObject();
            line.addProperty("prompt", PROMPTS.get(random.nextInt(PROMPTS.size())));
            line.addProperty("chosen", " " + String.join(" ", chosen));
            line.addProperty("rejected", " " + String.join(" ", rejected));
            lines.append(line).append('\n');
        }
        Files.writeString(file, lines);
        return file;
    }

}
