package dev.rlhf.store;

import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Judgments grouped by what they compared (task and unordered candidate pair), each annotator's
 * verdict turned into a category that does not depend on which candidate was shown as A.
 */
final class ComparisonRatings {

    /** Categories: the lower-indexed candidate wins, the higher-indexed wins, tie. */
    static final int CATEGORIES = 3;

    private record Item(String taskId, int lowCandidate, int highCandidate) {}

    private final Map<Item, Map<String, Integer>> ratings = new LinkedHashMap<>();

    ComparisonRatings(Iterable<Judgment> judgments) {
        for (Judgment judgment : judgments) {
            JudgmentSubmission s = judgment.getSubmission();
            if (s.getChoice() == Choice.CHOICE_SKIP) {
                continue;
            }
            boolean aIsLow = s.getCandidateA() < s.getCandidateB();
            Item item = new Item(s.getTaskId(), Math.min(s.getCandidateA(), s.getCandidateB()),
                    Math.max(s.getCandidateA(), s.getCandidateB()));
            int category = switch (s.getChoice()) {
                case CHOICE_A -> aIsLow ? 0 : 1;
                case CHOICE_B -> aIsLow ? 1 : 0;
                default -> 2;
            };
            ratings.computeIfAbsent(item, k -> new LinkedHashMap<>()).put(s.getAnnotatorId(), category);
        }
    }

    /** Cohen's kappa of two annotators over the comparisons both rated. */
    Agreement cohen(String first, String second) {
        long[][] confusion = new long[CATEGORIES][CATEGORIES];
        int items = 0;
        for (Map<String, Integer> byAnnotator : ratings.values()) {
            Integer a = byAnnotator.get(first);
            Integer b = byAnnotator.get(second);
            if (a != null && b != null) {
                confusion[a][b]++;
                items++;
            }
        }
        return new Agreement(items == 0 ? Double.NaN : Kappa.cohen(confusion), items);
    }

    /** Fleiss' kappa over the comparisons rated by exactly {@code ratingsPerItem} annotators. */
    Agreement fleiss(int ratingsPerItem) {
        if (ratingsPerItem < 2) {
            throw new IllegalArgumentException("ratingsPerItem must be at least 2 but was: " + ratingsPerItem);
        }
        List<long[]> rows = new ArrayList<>();
        for (Map<String, Integer> byAnnotator : ratings.values()) {
            if (byAnnotator.size() == ratingsPerItem) {
                long[] row = new long[CATEGORIES];
                byAnnotator.values().forEach(category -> row[category]++);
                rows.add(row);
            }
        }
        return new Agreement(rows.isEmpty() ? Double.NaN : Kappa.fleiss(rows.toArray(long[][]::new)), rows.size());
    }
}
