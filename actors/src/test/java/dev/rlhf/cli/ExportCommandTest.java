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
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.checkpoint.SafetensorsReader;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf export} on a run directory made here the way a run leaves one: {@code config.conf} naming the SFT
 * policy (a tiny GPT-2-architecture checkpoint with a byte-level BPE tokenizer.json trained here) and two
 * checkpoints, each the policy with its value head as {@link GptCheckpoint#save} writes it plus {@code state.json}.
 */
class ExportCommandTest {
    private static final List<String> CORPUS = List.of("Review of the cafe: the coffee was warm",
            "The hotel was quiet and the staff were kind", "Our dinner: bread, music, a late table");
    private static final long[][] SEQUENCES = {{1, 2, 3, 4, 5, 6}, {40, 7, 99, 12, 0, 250}, {3, 3, 3, 200, 100, 9}};

    @TempDir static Path shared;
    private static Path sft;
    private static Path run;
    private static int eos;


    @BeforeAll
    static void tinyRun() throws IOException {
        sft = shared.resolve("sft");
        Files.createDirectories(sft);
        GptConfig config;
        try (TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(300).train(CORPUS)
                .writeTokenizerJson(sft))) {
            eos = tokenizer.eosTokenId().orElseThrow();
            config = GptConfig.of(tokenizer.vocabSize(), 32, 16, 2, 2, eos);
        }
        run = shared.resolve("run");
        try (NDManager manager = NDManager.newBaseManager()) {
            save(GptWeights.random(config, false, manager, 1), sft);
            for (int iteration : new int[] {2, 4}) {
                Path checkpoint = run.resolve(String.format("checkpoints/iter-%05d", iteration));
                save(GptWeights.random(config, true, manager, 10 + iteration), checkpoint);
                Files.writeString(checkpoint.resolve(RunCheckpoint.STATE_FILE), "{\"iteration\": " + iteration + "}");
            }
        }
        Map<String, Object> keys = Map.of("rlhf.experiment.policy-checkpoint", sft.toString(),
                "rlhf.experiment.run-dir", run.toString(),
                "rlhf.experiment.sampling.temperature", 0.7,
                "rlhf.experiment.sampling.top-k", 20,
                "rlhf.experiment.sampling.top-p", 0.9,
                "rlhf.experiment.sampling.max-new-tokens", 12);
        // as RunConfigFile records a run's configuration: all of rlhf, as formatted JSON
        Files.writeString(run.resolve("config.conf"), ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load())
                .getConfig("rlhf").withoutPath("serve").root()
                .render(ConfigRenderOptions.concise().setFormatted(true)), StandardCharsets.UTF_8);
    }

    @Test
    void exportsTheNewestCheckpointWithoutValueHeadToIdenticalLogits() throws IOException {
        Path out = shared.resolve("newest");

        CommandRun outcome = CommandRun.of("export", "--run", run.toString(), "--out", out.toString());

        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals(out.toAbsolutePath().normalize().toString(), outcome.lastLine(), "the last line is the path");
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "generation_config.json")) {
            assertTrue(Files.isRegularFile(out.resolve(file)), "the export has " + file);
        }
        assertEquals(Set.of(), valueHeadTensors(out), "no value head without --with-value-head");
        assertSameLogits(run.resolve("checkpoints/iter-00004"), out);
        assertTrue(listing(shared).stream().noneMatch(name -> name.contains(".tmp-")), "no temporary directory left: "
                + listing(shared));
    }

    @Test
    void exportsANamedCheckpointWithItsValueHead() throws IOException {
        Path out = shared.resolve("named");

        CommandRun outcome = CommandRun.of("export", "--run", run.toString(), "--checkpoint", "iter-2", "--out", out.toString(),
                "--with-value-head");

        assertEquals(0, outcome.exitCode(), outcome.stderr());
        assertEquals(Set.of("v_head.summary.weight", "v_head.summary.bias"), valueHeadTensors(out));
        assertSameLogits(run.resolve("checkpoints/iter-00002"), out);
        try (NDManager manager = NDManager.newBaseManager();
                GptWeights stored = GptCheckpoint.load(run.resolve("checkpoints/iter-00002"), manager);
                GptWeights exported = GptCheckpoint.load(out, manager)) {
            assertArrayEquals(stored.get(GptWeights.VALUE_HEAD_WEIGHT).toFloatArray(),
                    exported.get(GptWeights.VALUE_HEAD_WEIGHT).toFloatArray(), "the value head as stored");
        }
    }

    @Test
    void generationConfigCarriesTheEndOfTextIdAndTheRunsSampling() throws IOException {
        Path out = shared.resolve("generate-config");
        assertEquals(0, CommandRun.of("export", "--run", run.toString(), "--out", out.toString()).exitCode());

        JsonObject json = JsonParser.parseString(Files.readString(out.resolve("generation_config.json")))
                .getAsJsonObject();

        assertEquals(eos, json.get("eos_token_id").getAsInt(), json.toString());
        assertEquals(eos, json.get("bos_token_id").getAsInt(), json.toString());
        assertTrue(json.get("do_sample").getAsBoolean(), json.toString());
        assertEquals(0.7f, json.get("temperature").getAsFloat(), 1e-6f, json.toString());
        assertEquals(20, json.get("top_k").getAsInt(), json.toString());
        assertEquals(0.9f, json.get("top_p").getAsFloat(), 1e-6f, json.toString());
        assertEquals(12, json.get("max_new_tokens").getAsInt(), json.toString());
    }

    @Test
    void generateReadsTheExportedDirectory() {
        Path out = shared.resolve("generate-from");
        assertEquals(0, CommandRun.of("export", "--run", run.toString(), "--out", out.toString()).exitCode());

        CommandRun generated = CommandRun.of("generate", "--checkpoint", out.toString(), "--prompt", "The hotel was",
                "--max-new-tokens", "4", "--temperature", "0");

        assertEquals(0, generated.exitCode(), generated.stderr());
    }

    @Test
    void mistakesAreOneLineExitingTwo(@TempDir Path dir) throws IOException {
        Path emptyRun = dir.resolve("empty-run");
        Files.createDirectories(emptyRun);
        Files.copy(run.resolve("config.conf"), emptyRun.resolve("config.conf"));
        Path occupied = shared.resolve("occupied");
        Files.createDirectories(occupied);
        Files.writeString(occupied.resolve("keep.txt"), "mine");

        assertMistake(CommandRun.of("export", "--run", dir.resolve("nowhere").toString(), "--out", dir.resolve("a").toString()),
                "no such run directory: " + dir.resolve("nowhere"));
        assertMistake(CommandRun.of("export", "--run", emptyRun.toString(), "--out", dir.resolve("b").toString()),
                "run " + emptyRun + " has no checkpoint");
        assertMistake(CommandRun.of("export", "--run", run.toString(), "--checkpoint", "iter-7", "--out",
                dir.resolve("c").toString()), "has no checkpoint iter-7; it has iter-00002, iter-00004");
        assertMistake(CommandRun.of("export", "--run", run.toString(), "--out", occupied.toString()),
                "--out " + occupied + " exists and is not an empty directory");
        assertEquals("mine", Files.readString(occupied.resolve("keep.txt")), "a non-empty --out is left alone");
        assertFalse(Files.exists(dir.resolve("c")), "nothing written on a mistake");
    }

    private static void assertMistake(CommandRun outcome, String expected) {
        assertEquals(2, outcome.exitCode(), "exit code; stderr: " + outcome.stderr());
        List<String> lines = outcome.stderr().strip().lines().toList();
        assertEquals(1, lines.size(), "one line: " + outcome.stderr());
        assertTrue(lines.get(0).startsWith("rlhf export: ") && lines.get(0).contains(expected),
                "expected \"" + expected + "\" in: " + lines.get(0));
    }

    /**
     * The run's checkpoint loaded as {@code train --resume} and {@code serve --follow} load it, and the export as
     * {@code generate --checkpoint} loads it, give the same logits bit for bit.
     */
    private static void assertSameLogits(Path checkpoint, Path exported) {
        try (NDManager manager = NDManager.newBaseManager();
                GptModel resumed = new GptModel(GptCheckpoint.load(checkpoint, manager));
                Policy policy = Policy.load(exported, manager)) {
            for (long[] sequence : SEQUENCES) {
                int vocab = resumed.config().vocabSize();
                long[] ids = java.util.Arrays.stream(sequence).map(id -> id % vocab).toArray();
                Shape shape = new Shape(1, ids.length);
                long[] mask = new long[sequence.length];
                java.util.Arrays.fill(mask, 1);
                try (NDManager step = manager.newSubManager()) {
                    float[] expected = resumed.forward(step.create(ids, shape), step.create(mask, shape), false)
                            .logits().toFloatArray();
                    float[] actual = policy.model().forward(step.create(ids, shape), step.create(mask, shape),
                            false).logits().toFloatArray();
                    assertArrayEquals(expected, actual, 0f, "logits of " + java.util.Arrays.toString(sequence));
                }
            }
        }
    }

    private static Set<String> valueHeadTensors(Path dir) {
        try (NDManager manager = NDManager.newBaseManager()) {
            return Set.copyOf(SafetensorsReader.read(dir.resolve("model.safetensors"), manager).keySet().stream()
                    .filter(name -> name.startsWith("v_head")).toList());
        }
    }

    private static List<String> listing(Path dir) throws IOException {
        try (var entries = Files.list(dir)) {
            return entries.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static void save(GptWeights weights, Path dir) throws IOException {
        try (weights) {
            GptCheckpoint.save(weights, dir);
        }
    }

}
