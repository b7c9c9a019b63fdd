package dev.rlhf.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.rlhf.policy.tokenizer.TextTokenizer;
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
 * A JSONL file of preference pairs that {@code rm train}, {@code rm eval} and {@code dpo train} read, parsed by the
 * store's {@link PreferenceFormat}: every line is checked before any is used.
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

    /**
     * Pairs encoded for the policy, and how many did not fit its context.
     *
     * @param pairs one token-level pair per pair that fits, in file order
     * @param skipped pairs with an empty prompt or response, or a prompt longer than {@code promptTokens} or a
     *     response longer than the rest of the context (cutting a response would train the policy on a text the
     *     file does not hold)
     * @param promptTokens the longest prompt kept; every kept response fits the context after it
     */
    record TokenPairs(List<dev.rlhf.policy.align.PreferencePair> pairs, int skipped, int promptTokens) {}

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

    /**
     * The pairs as prompt, chosen and rejected tokens, each text encoded on its own as the policy samples it (as
     * the experiments' DPO encodes judged comparisons), those that do not fit left out. The learner packs a batch
     * with every prompt padded to the batch's longest and every response to its longest, so one pair fitting the
     * context is not enough: the kept pairs share one split of the context into prompt and response tokens, the
     * split that keeps the most pairs.
     *
     * @throws IllegalArgumentException naming the file if no pair fits
     */
    TokenPairs tokenPairs(TextTokenizer tokenizer, int contextLength) {
        List<Sized> encoded = new ArrayList<>(pairs.size());
        for (PreferencePair pair : pairs) {
            int[] prompt = tokenizer.encode(pair.prompt());
            int[] chosen = tokenizer.encode(pair.chosen());
            int[] rejected = tokenizer.encode(pair.rejected());
            if (prompt.length > 0 && chosen.length > 0 && rejected.length > 0) {
                encoded.add(new Sized(new dev.rlhf.policy.align.PreferencePair(prompt, chosen, rejected),
                        prompt.length, Math.max(chosen.length, rejected.length)));
            }
        }
        int bestPrompt = 1;
        long bestCount = 0;
        for (int promptTokens = 1; promptTokens < contextLength; promptTokens++) {
            int limit = promptTokens;
            long count = encoded.stream().filter(pair -> pair.fits(limit, contextLength)).count();
            if (count > bestCount) {
                bestPrompt = promptTokens;
                bestCount = count;
            }
        }
        int promptTokens = bestPrompt;
        List<dev.rlhf.policy.align.PreferencePair> kept = encoded.stream()
                .filter(pair -> pair.fits(promptTokens, contextLength)).map(Sized::pair).toList();
        if (kept.isEmpty()) {
            throw new IllegalArgumentException("every pair of " + file + " is empty or longer than the model's "
                    + "context of " + contextLength + " tokens");
        }
        return new TokenPairs(kept, pairs.size() - kept.size(), bestPrompt);
    }

    /** An encoded pair with its prompt's length and its longer response's. */
    private record Sized(dev.rlhf.policy.align.PreferencePair pair, int promptTokens, int responseTokens) {
        boolean fits(int promptLimit, int contextLength) {
            return promptTokens <= promptLimit && responseTokens <= contextLength - promptLimit;
        }
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
