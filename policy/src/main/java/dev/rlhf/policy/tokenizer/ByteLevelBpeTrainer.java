package dev.rlhf.policy.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Learns a GPT-2-style byte-level BPE vocabulary from a text corpus.
 *
 * <p>Text is split into words with GPT-2's pre-tokenization regex, each word becomes its UTF-8
 * bytes (one base symbol each), and the most frequent adjacent pair is merged until the vocabulary
 * reaches the target size or no pair is left. Ties go to the pair with the smaller (left id, right
 * id), so the same corpus always gives the same model. Occurrences of the special tokens in the
 * corpus are cut out before counting and never take part in a merge.
 */
public final class ByteLevelBpeTrainer {

    /** GPT-2's pre-tokenization regex; Unicode classes so that {@code \s} matches as in Rust. */
    static final Pattern GPT2_SPLIT =
            Pattern.compile(
                    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+|"
                            + " ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
                    Pattern.UNICODE_CHARACTER_CLASS);

    private static final int BASE_SIZE = 256;

    private final int vocabSize;
    private final List<String> specialTokens;
    private final Pattern specialTokenPattern;

    /**
     * Creates a trainer whose only special token is {@link TextTokenizer#END_OF_TEXT}.
     *
     * @param vocabSize the target vocabulary size, special tokens included
     * @throws IllegalArgumentException if {@code vocabSize} is smaller than 257
     */
    public ByteLevelBpeTrainer(int vocabSize) {
        this(vocabSize, List.of(TextTokenizer.END_OF_TEXT));
    }

    /**
     * @param vocabSize the target vocabulary size, special tokens included
     * @param specialTokens the special tokens, given the last ids in this order
     * @throws IllegalArgumentException if {@code vocabSize} leaves no room for the 256 byte symbols
     *     and the special tokens, or if a special token is empty or repeated
     */
    public ByteLevelBpeTrainer(int vocabSize, List<String> specialTokens) {
        this.specialTokens = List.copyOf(specialTokens);
        if (this.specialTokens.isEmpty()) {
            throw new IllegalArgumentException("specialTokens must not be empty");
        }
        if (new HashSet<>(this.specialTokens).size() != this.specialTokens.size()
                || this.specialTokens.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException(
                    "specialTokens must be distinct and non-empty but were: " + specialTokens);
        }
        if (vocabSize < BASE_SIZE + this.specialTokens.size()) {
            throw new IllegalArgumentException(
                    "vocabSize must be at least "
                            + (BASE_SIZE + this.specialTokens.size())
                            + " but was: "
                            + vocabSize);
        }
        this.vocabSize = vocabSize;
        this.specialTokenPattern =
                Pattern.compile(
                        this.specialTokens.stream()
                                .map(Pattern::quote)
                                .collect(Collectors.joining("|")));
    }

    /**
     * Learns merges from {@code corpus}. The result has at most the target size; it is smaller when
     * the corpus runs out of pairs to merge.
     *
     * @throws NullPointerException if {@code corpus} or one of its documents is null
     */
    public ByteLevelBpe train(Iterable<String> corpus) {
        Objects.requireNonNull(corpus, "corpus");
        // sorted, so that the word order (and with it everything below) is independent of hashing
        TreeMap<String, Long> wordCounts = countWords(corpus);
        List<String> vocabulary = new ArrayList<>(ByteLevelAlphabet.symbolsInVocabOrder());
        Map<String, Integer> ids = new HashMap<>();
        for (int id = 0; id < vocabulary.size(); id++) {
            ids.put(vocabulary.get(id), id);
        }
        int[][] words = new int[wordCounts.size()][];
        long[] counts = new long[wordCounts.size()];
        int w = 0;
        for (Map.Entry<String, Long> entry : wordCounts.entrySet()) {
            String word = entry.getKey();
            words[w] = new int[word.length()];
            for (int i = 0; i < word.length(); i++) {
                words[w][i] = ids.get(word.substring(i, i + 1));
            }
            counts[w++] = entry.getValue();
        }

        List<ByteLevelBpe.Merge> merges = new ArrayList<>();
        int mergedSize = vocabSize - specialTokens.size();
        while (vocabulary.size() < mergedSize) {
            long best = mostFrequentPair(words, counts);
            if (best < 0) {
                break;
            }
            int left = (int) (best >>> 32);
            int right = (int) best;
            String merged = vocabulary.get(left) + vocabulary.get(right);
            Integer mergedId = ids.get(merged);
            if (mergedId == null) {
                mergedId = vocabulary.size();
                vocabulary.add(merged);
                ids.put(merged, mergedId);
            }
            merges.add(new ByteLevelBpe.Merge(vocabulary.get(left), vocabulary.get(right)));
            for (int i = 0; i < words.length; i++) {
                words[i] = applyMerge(words[i], left, right, mergedId);
            }
        }
        vocabulary.addAll(specialTokens);
        return new ByteLevelBpe(vocabulary, merges, specialTokens);
    }

    private TreeMap<String, Long> countWords(Iterable<String> corpus) {
        TreeMap<String, Long> wordCounts = new TreeMap<>();
        for (String document : corpus) {
            Objects.requireNonNull(document, "a corpus document");
            for (String piece : specialTokenPattern.split(document, -1)) {
                Matcher matcher = GPT2_SPLIT.matcher(piece);
                while (matcher.find()) {
                    wordCounts.merge(ByteLevelAlphabet.toSymbols(matcher.group()), 1L, Long::sum);
                }
            }
        }
        return wordCounts;
    }

    /** Returns the most frequent pair packed as {@code left << 32 | right}, or -1 if none. */
    private static long mostFrequentPair(int[][] words, long[] counts) {
        Map<Long, Long> pairCounts = new HashMap<>();
        for (int w = 0; w < words.length; w++) {
            int[] word = words[w];
            for (int i = 0; i + 1 < word.length; i++) {
                pairCounts.merge(((long) word[i] << 32) | word[i + 1], counts[w], Long::sum);
            }
        }
        long best = -1;
        long bestCount = 0;
        for (Map.Entry<Long, Long> entry : pairCounts.entrySet()) {
            long pair = entry.getKey();
            long count = entry.getValue();
            if (count > bestCount || (count == bestCount && pair < best)) {
                best = pair;
                bestCount = count;
            }
        }
        return best;
    }

    private static int[] applyMerge(int[] word, int left, int right, int merged) {
        int[] out = new int[word.length];
        int n = 0;
        for (int i = 0; i < word.length; i++) {
            if (i + 1 < word.length && word[i] == left && word[i + 1] == right) {
                out[n++] = merged;
                i++;
            } else {
                out[n++] = word[i];
            }
        }
        return n == word.length ? word : Arrays.copyOf(out, n);
    }
}
