package dev.rlhf.store;

import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.AnnotatorAgreement;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.PairwiseKappa;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Judgments grouped by what they compared (task and unordered candidate pair), each annotator's
 * verdict turned into a category that does not depend on which candidate was shown as A. Skips are
 * left out; the caller leaves out retracted judgments.
 */
final class ComparisonRatings {

    /** Categories: the lower-indexed candidate wins, the higher-indexed wins, tie, both bad. */
    static final int CATEGORIES = 4;

    /** A comparison: a task and its candidate pair, lower index first. */
    record Item(String taskId, int lowCandidate, int highCandidate) {}

    private final Map<Item, Map<String, Integer>> ratings = new LinkedHashMap<>();

    ComparisonRatings(Iterable<Judgment> judgments) {
        for (Judgment judgment : judgments) {
            JudgmentSubmission s = judgment.getSubmission();
            if (s.getChoice() == Choice.CHOICE_SKIP) {
                continue;
            }
            ratings.computeIfAbsent(item(s), k -> new LinkedHashMap<>()).put(s.getAnnotatorId(), category(s));
        }
    }

    /** The comparison a judgment made. */
    static Item item(JudgmentSubmission s) {
        return new Item(s.getTaskId(), Math.min(s.getCandidateA(), s.getCandidateB()),
                Math.max(s.getCandidateA(), s.getCandidateB()));
    }

    /** The judgment's category on the true candidate identity: A and B swap when A is the higher index. */
    static int category(JudgmentSubmission s) {
        boolean aIsLow = s.getCandidateA() < s.getCandidateB();
        return switch (s.getChoice()) {
            case CHOICE_A -> aIsLow ? 0 : 1;
            case CHOICE_B -> aIsLow ? 1 : 0;
            case CHOICE_BOTH_BAD -> 3;
            default -> 2;
        };
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
                rows.add(counts(byAnnotator));
            }
        }
        return new Agreement(rows.isEmpty() ? Double.NaN : Kappa.fleiss(rows.toArray(long[][]::new)), rows.size());
    }

    /**
     * Agreement over the comparisons with at least two ratings: Krippendorff's alpha (nominal), the share of
     * agreeing pairs of ratings within a comparison, Cohen's kappa of every pair of annotators sharing at least
     * {@code minSharedItems} comparisons (by name order), and each annotator's agreement with the majority of the
     * others (comparisons where the others tie for the top category left out).
     */
    AgreementReport report(int minSharedItems) {
        List<long[]> rows = new ArrayList<>();
        long agreeingPairs = 0;
        long pairs = 0;
        int judgments = 0;
        TreeSet<String> annotators = new TreeSet<>();
        Map<String, long[]> withMajority = new TreeMap<>();
        for (Map<String, Integer> byAnnotator : ratings.values()) {
            if (byAnnotator.size() < 2) {
                continue;
            }
            long[] row = counts(byAnnotator);
            rows.add(row);
            judgments += byAnnotator.size();
            pairs += (long) byAnnotator.size() * (byAnnotator.size() - 1) / 2;
            for (long n : row) {
                agreeingPairs += n * (n - 1) / 2;
            }
            annotators.addAll(byAnnotator.keySet());
            byAnnotator.forEach((annotator, category) -> {
                int majority = othersMajority(row, category);
                if (majority >= 0) {
                    long[] tally = withMajority.computeIfAbsent(annotator, k -> new long[2]);
                    tally[0] += majority == category ? 1 : 0;
                    tally[1]++;
                }
            });
        }
        AgreementReport.Builder report = AgreementReport.newBuilder()
                .setKrippendorffAlpha(Kappa.krippendorffAlpha(rows.toArray(long[][]::new)))
                .setPercentAgreement(pairs == 0 ? Double.NaN : (double) agreeingPairs / pairs)
                .setItems(rows.size())
                .setJudgments(judgments);
        for (String a : annotators) {
            for (String b : annotators.tailSet(a, false)) {
                Agreement kappa = cohen(a, b);
                if (kappa.items() > 0 && kappa.items() >= minSharedItems) {
                    report.addPairwise(PairwiseKappa.newBuilder().setAnnotatorA(a).setAnnotatorB(b)
                            .setKappa(kappa.kappa()).setSharedItems(kappa.items()));
                }
            }
        }
        withMajority.forEach((annotator, tally) -> report.addAnnotators(AnnotatorAgreement.newBuilder()
                .setAnnotator(annotator)
                .setAgreementWithMajority((double) tally[0] / tally[1])
                .setItems((int) tally[1])));
        return report.build();
    }

    /** The category most of the other raters chose, leaving out one rating of {@code own}; -1 on a tie. */
    private static int othersMajority(long[] row, int own) {
        int best = -1;
        long bestCount = 0;
        boolean tied = false;
        for (int c = 0; c < row.length; c++) {
            long count = row[c] - (c == own ? 1 : 0);
            if (count > bestCount) {
                best = c;
                bestCount = count;
                tied = false;
            } else if (count == bestCount && count > 0) {
                tied = true;
            }
        }
        return tied ? -1 : best;
    }

    private static long[] counts(Map<String, Integer> byAnnotator) {
        long[] row = new long[CATEGORIES];
        byAnnotator.values().forEach(category -> row[category]++);
        return row;
    }
}
