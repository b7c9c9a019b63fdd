package dev.rlhf.rewardmodel;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.policy.model.CheckpointException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a reward-model checkpoint says about itself, stored as {@code reward_model.json} beside the weights.
 *
 * @param version the reward model's version, from 1, increasing with each retraining
 * @param trainedThroughSequence the highest preference sequence number among its training judgments, -1 if none
 * @param normalizer the statistics PPO normalises its scores with
 * @param metrics named figures of its training and evaluation (held-out loss and accuracy, accuracy against gold)
 * @param epochs the per-epoch reports of its training
 */
public record RewardModelInfo(
        int version,
        long trainedThroughSequence,
        RewardNormalizer normalizer,
        Map<String, Double> metrics,
        List<EpochReport> epochs) {
    public static final String FILE_NAME = "reward_model.json";
    private static final int FORMAT = 1;

    public RewardModelInfo {
        if (version < 1) {
            throw new IllegalArgumentException("version must be at least 1 but was " + version);
        }
        if (trainedThroughSequence < -1) {
            throw new IllegalArgumentException(
                    "trainedThroughSequence must be -1 or more but was " + trainedThroughSequence);
        }
        metrics = Map.copyOf(new LinkedHashMap<>(metrics));
        epochs = List.copyOf(epochs);
    }

    /** Writes {@value #FILE_NAME} into {@code dir}. */
    public void write(Path dir) throws IOException {
        JsonObject json = new JsonObject();
        json.addProperty("format", FORMAT);
        json.addProperty("version", version);
        json.addProperty("trained_through_sequence", trainedThroughSequence);
        JsonObject norm = new JsonObject();
        norm.addProperty("mean", normalizer.mean());
        norm.addProperty("std", normalizer.std());
        norm.addProperty("samples", normalizer.samples());
        json.add("normalization", norm);
        JsonObject figures = new JsonObject();
        metrics.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> figures.addProperty(e.getKey(), e.getValue()));
        json.add("metrics", figures);
        JsonArray reports = new JsonArray();
        for (EpochReport r : epochs) {
            JsonObject o = new JsonObject();
            o.addProperty("epoch", r.epoch());
            o.addProperty("train_loss", r.trainLoss());
            o.addProperty("held_out_loss", r.heldOutLoss());
            o.addProperty("held_out_accuracy", r.heldOutAccuracy());
            o.addProperty("seconds", r.seconds());
            reports.add(o);
        }
        json.add("epochs", reports);
        Files.writeString(dir.resolve(FILE_NAME), new GsonBuilder().setPrettyPrinting().create().toJson(json),
                StandardCharsets.UTF_8);
    }

    /**
     * Reads {@value #FILE_NAME} from {@code dir}.
     *
     * @throws CheckpointException if the file is missing, malformed or of an unknown format
     */
    public static RewardModelInfo read(Path dir) {
        Path file = dir.resolve(FILE_NAME);
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("reward model checkpoint " + dir + " has no " + FILE_NAME);
        }
        try {
            JsonObject json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8)).getAsJsonObject();
            int format = json.get("format").getAsInt();
            if (format != FORMAT) {
                throw new CheckpointException("unknown format " + format + " of " + file + "; expected " + FORMAT);
            }
            JsonObject norm = json.getAsJsonObject("normalization");
            Map<String, Double> metrics = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : json.getAsJsonObject("metrics").entrySet()) {
                metrics.put(e.getKey(), e.getValue().getAsDouble());
            }
            List<EpochReport> epochs = new ArrayList<>();
            for (JsonElement e : json.getAsJsonArray("epochs")) {
                JsonObject o = e.getAsJsonObject();
                epochs.add(new EpochReport(o.get("epoch").getAsInt(), o.get("train_loss").getAsDouble(),
                        o.get("held_out_loss").getAsDouble(), o.get("held_out_accuracy").getAsDouble(),
                        o.get("seconds").getAsDouble()));
            }
            return new RewardModelInfo(json.get("version").getAsInt(),
                    json.get("trained_through_sequence").getAsLong(),
                    new RewardNormalizer(norm.get("mean").getAsDouble(), norm.get("std").getAsDouble(),
                            norm.get("samples").getAsInt()),
                    metrics, epochs);
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            throw new CheckpointException("cannot parse " + file + ": " + e.getMessage(), e);
        }
    }
}
