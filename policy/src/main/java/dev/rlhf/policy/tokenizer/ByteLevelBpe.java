package dev.rlhf.policy.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A trained GPT-2-style byte-level BPE model: the vocabulary in id order (256 byte symbols, then
 * one token per new merge result, then the special tokens) and the merges in priority order.
 *
 * @param vocabulary token strings, the id of a token being its index
 * @param merges merge rules, earlier ones applied first
 * @param specialTokens special tokens, also the last entries of {@code vocabulary}
 */
public record ByteLevelBpe(
        List<String> vocabulary, List<Merge> merges, List<String> specialTokens) {

    /** The file name Hugging Face loaders look for in a tokenizer directory. */
    public static final String TOKENIZER_FILE_NAME = "tokenizer.json";

    /**
     * One merge rule: two adjacent tokens become their concatenation.
     *
     * @param left the left token
     * @param right the right token
     */
    public record Merge(String left, String right) {

        /**
         * @throws NullPointerException if either token is null
         */
        public Merge {
            Objects.requireNonNull(left, "left");
            Objects.requireNonNull(right, "right");
        }
    }

    /**
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the vocabulary repeats a token or does not end with the
     *     special tokens
     */
    public ByteLevelBpe {
        vocabulary = List.copyOf(vocabulary);
        merges = List.copyOf(merges);
        specialTokens = List.copyOf(specialTokens);
        Set<String> distinct = new HashSet<>(vocabulary);
        if (distinct.size() != vocabulary.size()) {
            throw new IllegalArgumentException("vocabulary must not repeat a token");
        }
        int firstSpecial = vocabulary.size() - specialTokens.size();
        if (firstSpecial < 0
                || !vocabulary.subList(firstSpecial, vocabulary.size()).equals(specialTokens)) {
            throw new IllegalArgumentException(
                    "vocabulary must end with the special tokens " + specialTokens);
        }
    }

    /** Returns the number of tokens, special tokens included. */
    public int size() {
        return vocabulary.size();
    }

    /** Returns the id of {@code token}, or -1 if it is not in the vocabulary. */
    public int idOf(String token) {
        return vocabulary.indexOf(token);
    }

    /** Returns this model as a Hugging Face {@code tokenizer.json} document. */
    public String toTokenizerJson() {
        return TokenizerJsonFormat.render(this);
    }

    /**
     * Writes {@code tokenizer.json} into {@code directory}, creating the directory if needed.
     *
     * @return the file written
     * @throws IOException if the file cannot be written
     */
    public Path writeTokenizerJson(Path directory) throws IOException {
        Files.createDirectories(directory);
        Path file = directory.resolve(TOKENIZER_FILE_NAME);
        Files.writeString(file, toTokenizerJson(), StandardCharsets.UTF_8);
        return file;
    }
}
