package dev.rlhf.labeling;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The accuracy of each reward-model version of a run, read from {@code <run>/reward-models/v<N>/reward_model.json}
 * (written by the reward-model builder: {@code version} and {@code metrics.held_out_accuracy},
 * {@code metrics.accuracy_against_gold}). A version whose file is missing, half-written or malformed is left out.
 */
final class RewardModelAccuracy {

    private static final Pattern VERSION_DIR = Pattern.compile("v(\\d{1,9})");

    private RewardModelAccuracy() {
    }

    /** One version's figures; NaN where the file has none. */
    record Version(int version, double heldOutAccuracy, double accuracyAgainstGold) {
    }

    /** Every readable version under {@code runDir}, by version. */
    static List<Version> read(Path runDir) {
        Path root = runDir.resolve("reward-models");
        List<Version> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root)) {
            for (Path dir : dirs) {
                Matcher m = VERSION_DIR.matcher(dir.getFileName().toString());
                Path file = dir.resolve("reward_model.json");
                if (!m.matches() || !Files.isRegularFile(file)) {
                    continue;
                }
                try {
                    JsonObject json = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8))
                            .getAsJsonObject();
                    JsonObject metrics = json.has("metrics") ? json.getAsJsonObject("metrics") : new JsonObject();
                    int version = json.has("version") ? json.get("version").getAsInt() : Integer.parseInt(m.group(1));
                    out.add(new Version(version, number(metrics.get("held_out_accuracy")),
                            number(metrics.get("accuracy_against_gold"))));
                } catch (IOException | RuntimeException e) {
                    // being written, or not ours: the next poll sees it whole
                }
            }
        } catch (IOException e) {
            return out;
        }
        out.sort(Comparator.comparingInt(Version::version));
        return out;
    }

    /** The versions as a JSON array of {version, held_out_accuracy, accuracy_against_gold} (null for NaN). */
    static JsonArray toJson(List<Version> versions) {
        JsonArray arr = new JsonArray();
        for (Version v : versions) {
            JsonObject o = new JsonObject();
            o.addProperty("version", v.version());
            o.add("held_out_accuracy", Json.finite(v.heldOutAccuracy()));
            o.add("accuracy_against_gold", Json.finite(v.accuracyAgainstGold()));
            arr.add(o);
        }
        return arr;
    }

    private static double number(JsonElement e) {
        try {
            return e == null || e.isJsonNull() ? Double.NaN : e.getAsDouble();
        } catch (RuntimeException ex) {
            return Double.NaN;
        }
    }
}
