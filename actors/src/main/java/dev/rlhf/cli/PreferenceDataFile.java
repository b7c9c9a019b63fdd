package dev.rlhf.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.rlhf.rewardmodel.PreferenceExample;
import dev.rlhf.rewardmodel.SequenceEncoder;
import dev.rlhf.store.PreferenceFormat;
import dev.rlhf.store.PreferenceJsonl;
import dev.rlhf.store.PreferencePair;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JSONL file of preference pairs that {@code rm train} and {@code rm eval} read, parsed by the store's
 * {@link PreferenceFormat}: every line is checked before any is used.
 *
 * @param file the file
 * @param format the format its lines were read in
 * @param pairs its pairs, in file order
 */
record PreferenceDataFile(Path file, PreferenceFormat format, List<PreferencePair> pairs) {

    /** The {@code --format} values. */
    enum Format {
        trl(PreferenceFormat.TRL), hh(PreferenceFormat.HH_RLHF);

        final PreferenceFormat format;

        Format(PreferenceFormat format) {
            this.format = format;
        }
    }

    /**
     * Pairs encoded for the reward model, and how many did not fit its context.
     *
     * @param examples one single-vote example per pair that fits, chosen first
     * @param skipped pairs whose prompt + response is empty or longer than the context (cutting one would lose
     *     the last token the score is read at)
     */
    record Encoded(List<PreferenceExample> examples, int skipped) {}

    PreferenceDataFile {
        pairs = List.copyOf(pairs);
    }

    /**
     * Reads {@code file} in {@code format}, or, when it is null, in the format its first non-blank line suggests:
     * TRL when that line is a JSON object with a {@code "prompt"} key, HH-RLHF otherwise.
     *
     * @throws IllegalArgumentException if the file does not exist or holds no pairs
     * @throws dev.rlhf.store.InterchangeFormatException naming the file, line and field of every malformed line
     * @throws IOException if reading fails
     */
    static PreferenceDataFile read(Path file, Format format) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("--data: no such file: " + file);
        }
        PreferenceFormat chosen = format != null ? format.format : detect(file);
        List<PreferencePair> pairs;
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            pairs = PreferenceJsonl.read(chosen, in, file.toString());
        }
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException(file + " holds no preference pairs");
        }
        return new PreferenceDataFile(file, chosen, pairs);
    }

    /** The pairs as token sequences of prompt + response, those longer than the context left out. */
    Encoded encode(SequenceEncoder encoder) {
        List<PreferenceExample> examples = new ArrayList<>(pairs.size());
        int skipped = 0;
        for (PreferencePair pair : pairs) {
            try {
                examples.add(PreferenceExample.single(encoder.encode(pair.prompt(), pair.chosen()),
                        encoder.encode(pair.prompt(), pair.rejected()), 1));
            } catch (IllegalArgumentException e) {
                skipped++;
            }
        }
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("every pair of " + file + " is empty or longer than the model's "
                    + "context");
        }
        return new Encoded(examples, skipped);
    }

    /** {@code trl} or {@code hh}, as {@code --format} spells it. */
    String formatName() {
        return format == PreferenceFormat.TRL ? "trl" : "hh";
    }

    private static PreferenceFormat detect(Path file) throws IOException {
        try (BufferedReader lines = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonElement json = JsonParser.parseString(line);
                    return json.isJsonObject() && !json.getAsJsonObject().has("prompt")
                            ? PreferenceFormat.HH_RLHF : PreferenceFormat.TRL;
                } catch (JsonParseException e) {
                    return PreferenceFormat.TRL; // the TRL reader then reports the line
                }
            }
        }
        return PreferenceFormat.TRL;
    }
}
