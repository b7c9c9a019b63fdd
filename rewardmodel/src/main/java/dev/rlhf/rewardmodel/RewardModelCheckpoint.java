package dev.rlhf.rewardmodel;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Reward-model checkpoints in the Hugging Face layout of {@code GPT2ForSequenceClassification}:
 * {@code config.json} (one label), {@code model.safetensors} with the trunk and {@code score.weight} /
 * {@code score.bias}, the tokenizer files, and {@link RewardModelInfo#FILE_NAME}. Versions live side by side under
 * one root as {@code v0001}, {@code v0002}, ...
 */
public final class RewardModelCheckpoint {
    /** The Hugging Face tokenizer file every reward-model checkpoint holds. */
    public static final String TOKENIZER_JSON = "tokenizer.json";
    /** The tokenizer files a checkpoint carries, where its source has them. */
    public static final List<String> TOKENIZER_FILES =
            List.of(TOKENIZER_JSON, "tokenizer_config.json", "special_tokens_map.json");
    private static final Pattern VERSION_DIR = Pattern.compile("v(\\d{4,})");

    private RewardModelCheckpoint() {}

    /**
     * A loaded checkpoint; closing it closes the model and the tokenizer.
     *
     * @param model the network
     * @param tokenizer the tokenizer it reads text with
     * @param info what the checkpoint says about itself
     */
    public record Loaded(RewardModel model, TextTokenizer tokenizer, RewardModelInfo info) implements AutoCloseable {
        /** A scorer over this model with its stored normalisation. */
        public RewardScorer scorer(int batchSize) {
            return new RewardScorer(model, new SequenceEncoder(tokenizer, model.config().contextLength()),
                    info.normalizer(), batchSize);
        }

        @Override
        public void close() {
            tokenizer.close();
            model.close();
        }
    }

    /** Where version {@code version} lives under {@code root}. */
    public static Path versionDirectory(Path root, int version) {
        return root.resolve(String.format("v%04d", version));
    }

    /** The directory of the highest complete version under {@code root}, if any. */
    public static Optional<Path> latest(Path root) throws IOException {
        SortedMap<Integer, Path> versions = completeVersions(root);
        return versions.isEmpty() ? Optional.empty() : Optional.of(versions.get(versions.lastKey()));
    }

    /**
     * The complete versions under {@code root} (those whose {@value RewardModelInfo#FILE_NAME}, written last, is
     * there), by version number; empty when {@code root} is not a directory.
     */
    public static SortedMap<Integer, Path> completeVersions(Path root) throws IOException {
        SortedMap<Integer, Path> versions = new TreeMap<>();
        if (!Files.isDirectory(root)) {
            return versions;
        }
        try (Stream<Path> children = Files.list(root)) {
            children.filter(p -> Files.isRegularFile(p.resolve(RewardModelInfo.FILE_NAME)))
                    .forEach(p -> {
                        int version = version(p);
                        if (version >= 0) {
                            versions.put(version, p);
                        }
                    });
        }
        return versions;
    }

    /**
     * Writes the checkpoint into {@code dir} (created if needed), copying the tokenizer files found in
     * {@code tokenizerDir}; {@value RewardModelInfo#FILE_NAME} is written last, so a directory holding it is
     * complete.
     *
     * @throws IOException if a file cannot be written or {@code tokenizerDir} has no tokenizer.json
     */
    public static void save(RewardModel model, RewardModelInfo info, Path tokenizerDir, Path dir) throws IOException {
        if (!Files.isRegularFile(tokenizerDir.resolve(TOKENIZER_FILES.get(0)))) {
            throw new IOException("no " + TOKENIZER_FILES.get(0) + " in " + tokenizerDir);
        }
        Files.createDirectories(dir);
        GptCheckpoint.save(model.weights(), dir);
        markAsClassifier(dir, model.config());
        for (String name : TOKENIZER_FILES) {
            Path source = tokenizerDir.resolve(name);
            if (Files.isRegularFile(source) && !source.toAbsolutePath().equals(dir.resolve(name).toAbsolutePath())) {
                Files.copy(source, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        info.write(dir);
    }

    /**
     * Loads a checkpoint into a new sub-manager of {@code parent}.
     *
     * @throws CheckpointException naming the file and tensor when a file or tensor is missing or a shape is wrong
     */
    public static Loaded load(Path dir, NDManager parent) {
        RewardModelInfo info = RewardModelInfo.read(dir);
        GptConfig config = GptConfig.read(dir);
        RewardModel model = RewardModel.of(GptCheckpoint.load(dir, parent, RewardModel.headSpecs(config)));
        try {
            return new Loaded(model, TextTokenizer.load(dir), info);
        } catch (IOException | RuntimeException e) {
            model.close();
            throw new CheckpointException("cannot load the tokenizer of " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Rewrites config.json so Hugging Face builds a one-label sequence classifier padded with EOS. */
    private static void markAsClassifier(Path dir, GptConfig config) throws IOException {
        Path file = dir.resolve(GptConfig.FILE_NAME);
        JsonObject json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
        JsonArray architectures = new JsonArray();
        architectures.add("GPT2ForSequenceClassification");
        json.add("architectures", architectures);
        JsonObject labels = new JsonObject();
        labels.addProperty("0", "LABEL_0");
        json.add("id2label", labels);
        JsonObject ids = new JsonObject();
        ids.addProperty("LABEL_0", 0);
        json.add("label2id", ids);
        if (config.eosTokenId() >= 0) {
            json.addProperty("pad_token_id", config.eosTokenId());
        }
        Files.writeString(file, new GsonBuilder().setPrettyPrinting().create().toJson(json), StandardCharsets.UTF_8);
    }

    private static int version(Path dir) {
        Matcher m = VERSION_DIR.matcher(dir.getFileName().toString());
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }
}
