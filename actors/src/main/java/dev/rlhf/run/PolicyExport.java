package dev.rlhf.run;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import dev.rlhf.actors.RunCheckpoint;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.checkpoint.SafetensorsReader;
import dev.rlhf.policy.checkpoint.SafetensorsWriter;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Takes a run's tuned policy out in the Hugging Face layout {@code transformers} loads: the checkpoint's
 * {@code config.json} and {@code model.safetensors} (its tensors as stored, the value head left out unless asked
 * for), the SFT policy's tokenizer files (a run's checkpoints carry none) and a {@code generation_config.json} with
 * the end-of-text id and the run's sampling settings. The directory is written beside its destination and renamed
 * into place, so a reader never sees half of it.
 */
public final class PolicyExport {
    /** Tokenizer files copied from the SFT policy when it has them; the first is required. */
    private static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");
    static final String GENERATION_CONFIG = "generation_config.json";

    private PolicyExport() {}

    /**
     * The configuration a run was started with ({@code RUN_DIR/config.conf}) over the reference defaults.
     *
     * @throws IllegalArgumentException if {@code runDir} is no run directory (no directory, or no config.conf)
     */
    public static Config runConfig(Path runDir) throws IOException {
        if (!Files.isDirectory(runDir)) {
            throw new IllegalArgumentException("no such run directory: " + runDir);
        }
        Path file = runDir.resolve(RunConfigFile.FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(runDir + " is not a run directory: it has no " + RunConfigFile.FILE_NAME);
        }
        try {
            Config recorded = ConfigFactory.parseString(Files.readString(file, StandardCharsets.UTF_8),
                    ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON).setOriginDescription(file.toString()));
            return recorded.atKey("rlhf").withFallback(ConfigFactory.load()).resolve();
        } catch (ConfigException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The run's checkpoint called {@code name} ({@code iter-N}, with or without the leading zeros), or its newest
     * when {@code name} is empty; for a checkpoint the learner node wrote, the node's copy the run's record names
     * ({@link RunCheckpoint#weightsDirectory}).
     *
     * @throws IllegalArgumentException if the run has no checkpoint, or none of that name (listing those it has)
     * @throws CheckpointException if the learner node's checkpoint is not on this machine
     */
    public static Path checkpoint(Path runDir, Optional<String> name) throws IOException {
        return RunCheckpoint.weightsDirectory(record(runDir, name));
    }

    private static Path record(Path runDir, Optional<String> name) throws IOException {
        List<Path> complete = complete(runDir.resolve("checkpoints"));
        if (complete.isEmpty()) {
            throw new IllegalArgumentException("run " + runDir + " has no checkpoint in "
                    + runDir.resolve("checkpoints"));
        }
        if (name.isEmpty()) {
            return new RunCheckpoint(runDir).latest().orElse(complete.get(complete.size() - 1));
        }
        String wanted = canonical(name.get());
        return complete.stream().filter(p -> p.getFileName().toString().equals(wanted)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("run " + runDir + " has no checkpoint " + name.get()
                        + "; it has " + String.join(", ", complete.stream()
                                .map(p -> p.getFileName().toString()).toList())));
    }

    /**
     * Writes {@code checkpoint} with the tokenizer of {@code policyDir} and {@code sampling} to {@code out}, which
     * must not exist or be an empty directory.
     *
     * @throws IllegalArgumentException if {@code out} is not empty
     * @throws CheckpointException if the checkpoint or the tokenizer is missing or malformed
     */
    public static Path write(Path checkpoint, Path policyDir, SamplingParams sampling, boolean withValueHead,
            Path out) throws IOException {
        if (Files.exists(out) && !isEmptyDirectory(out)) {
            throw new IllegalArgumentException("--out " + out + " exists and is not an empty directory");
        }
        if (!Files.isRegularFile(policyDir.resolve(TOKENIZER_FILES.get(0)))) {
            throw new CheckpointException("the run's policy checkpoint " + policyDir + " has no "
                    + TOKENIZER_FILES.get(0));
        }
        GptConfig config = GptConfig.read(checkpoint);
        int eos = config.eosTokenId() >= 0 ? config.eosTokenId() : tokenizerEos(policyDir);
        Path target = out.toAbsolutePath().normalize();
        Files.createDirectories(target.getParent());
        // not createTempDirectory: its owner-only permissions would stay with the exported model
        Path staging = Files.createDirectory(
                target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID()));
        try {
            Files.copy(checkpoint.resolve("config.json"), staging.resolve("config.json"));
            copyWeights(checkpoint.resolve(GptCheckpoint.WEIGHTS_FILE), staging.resolve(GptCheckpoint.WEIGHTS_FILE),
                    withValueHead);
            for (String name : TOKENIZER_FILES) {
                if (Files.isRegularFile(policyDir.resolve(name))) {
                    Files.copy(policyDir.resolve(name), staging.resolve(name));
                }
            }
            Files.writeString(staging.resolve(GENERATION_CONFIG), generationConfig(eos, sampling),
                    StandardCharsets.UTF_8);
            if (Files.exists(target)) {
                Files.delete(target); // empty, checked above
            }
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } catch (IOException | RuntimeException e) {
            deleteRecursively(staging);
            throw e;
        }
    }

    /** The stored tensors as they are (no widening or transposing round trip), less the value head if asked. */
    private static void copyWeights(Path from, Path to, boolean withValueHead) throws IOException {
        if (!Files.isRegularFile(from)) {
            throw new CheckpointException("checkpoint " + from.getParent() + " has no " + from.getFileName());
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> tensors = new LinkedHashMap<>(SafetensorsReader.read(from, manager));
            if (!withValueHead) {
                tensors.keySet().removeIf(name -> name.startsWith("v_head."));
            } else if (!tensors.containsKey(GptWeights.VALUE_HEAD_WEIGHT)) {
                throw new CheckpointException("checkpoint " + from.getParent() + " has no value head ("
                        + GptWeights.VALUE_HEAD_WEIGHT + ")");
            }
            SafetensorsWriter.write(to, tensors);
        }
    }

    /** Hugging Face's generation settings for the run's sampling: greedy at temperature 0, top_k 0 disables. */
    static String generationConfig(int eos, SamplingParams sampling) {
        JsonObject json = new JsonObject();
        if (eos >= 0) {
            // GPT-2 begins and ends text with the same token
            json.addProperty("bos_token_id", eos);
            json.addProperty("eos_token_id", eos);
            json.addProperty("pad_token_id", eos);
        }
        json.addProperty("do_sample", !sampling.isGreedy());
        if (!sampling.isGreedy()) {
            json.addProperty("temperature", sampling.temperature());
            json.addProperty("top_k", sampling.topK());
            json.addProperty("top_p", sampling.topP());
        }
        json.addProperty("max_new_tokens", sampling.maxNewTokens());
        return new GsonBuilder().setPrettyPrinting().create().toJson(json);
    }

    /** The tokenizer's end-of-text id, for a config.json that names none; -1 when it has none either. */
    private static int tokenizerEos(Path policyDir) throws IOException {
        try (TextTokenizer tokenizer = TextTokenizer.load(policyDir)) {
            return tokenizer.eosTokenId().orElse(-1);
        }
    }

    private static List<Path> complete(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> entries = Files.list(root)) {
            return entries.filter(p -> p.getFileName().toString().matches("iter-\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve(RunCheckpoint.STATE_FILE)))
                    .sorted().toList();
        }
    }

    private static String canonical(String name) {
        if (name.matches("iter-\\d+")) {
            return String.format("iter-%05d", Integer.parseInt(name.substring("iter-".length())));
        }
        return name;
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
