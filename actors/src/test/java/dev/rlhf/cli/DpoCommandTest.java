package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dpo train} on a tiny GPT-2-architecture policy made here in the Hugging Face layout (a byte-level BPE
 * tokenizer.json trained here), on TRL files of review prompts whose chosen response always praises and whose
 * rejected one always complains: a preference the policy can learn in a few epochs.
 */
class DpoCommandTest {
    private static final List<String> PROMPTS = List.of("Review of the cafe:", "The hotel was", "Our dinner:",
            "Say something about the bakery:", "What was the museum like?");
    private static final List<String> TOPICS = List.of("coffee", "staff", "room", "food", "view", "bread", "music");
    private static final String PLEASANT = " was wonderful and kind.";
    private static final String UNPLEASANT = " was awful and rude.";

    @TempDir static Path shared;
    private static Path policy;

    @BeforeAll
    static void tinyPolicy() throws IOException {
        policy = shared.resolve("sft");
        Files.createDirectories(policy);
        List<String> corpus = new ArrayList<>(PROMPTS);
        TOPICS.forEach(topic -> corpus.add(" The " + topic + PLEASANT + " The " + topic + UNPLEASANT));
        GptConfig config;
        try (TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300).train(corpus)
                .writeTokenizerJson(policy))) {
            config = GptConfig.of(tokenizer.vocabSize(), 64, 32, 2, 2, tokenizer.eosTokenId().orElseThrow());
        }
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights weights = GptWeights.random(config, false, manager, 5)) {
            GptCheckpoint.save(weights, policy);
        }
    }

    @Test
    void trainingRaisesHeldOutRewardAccuracyAndWritesAPolicyThatGenerates() throws IOException {
        // setup
        Path data = writeTrl(shared.resolve("reviews.jsonl"), 80, 1);
        Files.writeString(data, tooLong() + tooLong(), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        Path out = shared.resolve("tuned");

        // run
        CommandRun trained = CommandRun.of("dpo", "train", "--policy", policy.toString(), "--data", data.toString(),
                "--out", out.toString(), "--held-out", "0.25", "--seed", "3", "--epochs", "4",
                "--learning-rate", "3e-3", "--beta", "0.5");

        // verify
        assertEquals(0, trained.exitCode(), trained.stderr());
        JsonObject json = trained.lastJson();
        assertEquals("dpo", json.get("algorithm").getAsString());
        assertEquals(60, json.get("pairs_train").getAsInt(), json.toString());
        assertEquals(20, json.get("pairs_held_out").getAsInt(), json.toString());
        assertEquals(2, json.get("pairs_skipped").getAsInt(), json.toString());
        assertTrue(trained.stderr().startsWith("dpo train: skipped 2 of 82 pairs of " + data), trained.stderr());
        assertEquals(4, json.get("epochs").getAsInt(), json.toString());
        assertEquals(out.toAbsolutePath().toString(), json.get("output").getAsString());
        assertTrue(trained.stderr().contains("dpo train: epoch 0/4 held-out loss 0.6931"), trained.stderr());
        assertTrue(trained.stderr().contains("dpo train: epoch 4/4 train loss "), trained.stderr());

        JsonArray epochs = JsonParser.parseString(Files.readString(out.resolve(DpoCommand.Train.REPORT_FILE),
                StandardCharsets.UTF_8)).getAsJsonObject().getAsJsonArray("epochs");
        assertEquals(5, epochs.size(), "epoch 0 and four trained: " + epochs);
        JsonObject before = epochs.get(0).getAsJsonObject();
        JsonObject after = epochs.get(4).getAsJsonObject();
        assertEquals(json.get("held_out_loss").getAsDouble(), after.get("held_out_loss").getAsDouble());
        assertTrue(after.get("held_out_loss").getAsDouble() < before.get("held_out_loss").getAsDouble() - 0.1,
                "held-out loss fell: " + epochs);
        assertTrue(after.get("held_out_reward_accuracy").getAsDouble() >= 0.9
                && before.get("held_out_reward_accuracy").getAsDouble() < 0.9, "held-out accuracy rose: " + epochs);
        assertTrue(after.get("held_out_reward_margin").getAsDouble() > 0, "margin: " + epochs);

        // a policy as export writes one: it loads and generates, and its weights are not the input's
        assertNotEquals(-1, Files.mismatch(policy.resolve(GptCheckpoint.WEIGHTS_FILE),
                out.resolve(GptCheckpoint.WEIGHTS_FILE)), "the weights were trained");
        assertEquals(-1, Files.mismatch(policy.resolve("tokenizer.json"), out.resolve("tokenizer.json")));
        assertTrue(Files.isRegularFile(out.resolve("generation_config.json")));
        try (NDManager manager = NDManager.newBaseManager(); Policy tuned = Policy.load(out, manager)) {
            List<Completion> completions = tuned.generator().generate(List.of(new GenerationRequest(
                    tuned.tokenizer().encode("The hotel was"), SamplingParams.greedy(6))));
            assertFalse(completions.get(0).text().isEmpty(), completions.toString());
        }

        CommandRun again = CommandRun.of("dpo", "train", "--policy", policy.toString(), "--data", data.toString(),
                "--out", out.toString());
        assertUserError(again, "rlhf dpo train: --out " + out + " exists and is not empty");
    }

    @Test
    void aLineThatIsNotJsonIsOneLineNamingFileAndLineAndNothingIsWritten(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("bad.jsonl");
        Files.writeString(data, """
                {"prompt": "The hotel was", "chosen": " kind.", "rejected": " rude."}
                {"prompt": "Our dinner:", "chosen": " kind.", "rejected": " rude."}
                this is not json
                """);

        CommandRun outcome = CommandRun.of("dpo", "train", "--policy", policy.toString(), "--data", data.toString(),
                "--out", dir.resolve("out").toString());

        assertUserError(outcome, "rlhf dpo train: " + data + " line 3: not JSON");
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void aFileWhosePairsAllOverflowTheContextIsRefusedNamingIt(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("long.jsonl");
        Files.writeString(data, tooLong() + tooLong());

        CommandRun outcome = CommandRun.of("dpo", "train", "--policy", policy.toString(), "--data", data.toString(),
                "--out", dir.resolve("out").toString());

        assertUserError(outcome, "rlhf dpo train: every pair of " + data + " is empty or longer than the model's"
                + " context of 64 tokens");
        assertFalse(Files.exists(dir.resolve("out")), "nothing written");
    }

    private static void assertUserError(CommandRun outcome, String line) {
        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.stderr().lines().count(), "one line:\n" + outcome.stderr());
        assertTrue(outcome.stderr().startsWith(line), "expected " + line + "\nbut got " + outcome.stderr());
    }

    /** A TRL line whose rejected response alone is longer than the context. */
    private static String tooLong() {
        return "{\"prompt\": \"The hotel was\", \"chosen\": \" kind.\", \"rejected\": \" The room"
                + UNPLEASANT.repeat(24) + "\"}\n";
    }

    /** {@code pairs} TRL lines: a prompt, then the same topic praised (chosen) or run down (rejected). */
    private static Path writeTrl(Path file, int pairs, long seed) throws IOException {
        Random random = new Random(seed);
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < pairs; i++) {
            String prompt = PROMPTS.get(random.nextInt(PROMPTS.size()));
            String topic = " The " + TOPICS.get(random.nextInt(TOPICS.size()));
            JsonObject line = new JsonObject();
            line.addProperty("prompt", prompt);
            line.addProperty("chosen", topic + PLEASANT);
            line.addProperty("rejected", topic + UNPLEASANT);
            lines.append(line).append('\n');
        }
        Files.writeString(file, lines.toString(), StandardCharsets.UTF_8);
        return file;
    }
}
