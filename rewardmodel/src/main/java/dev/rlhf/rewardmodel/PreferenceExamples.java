package dev.rlhf.rewardmodel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns judged comparisons into reward-model training pairs. */
public final class PreferenceExamples {
    private PreferenceExamples() {}

    /**
     * The comparisons with at least one ordered judgment as (chosen, rejected) token pairs, one per comparison, in
     * the order each comparison was first judged; every ordered judgment of a comparison becomes a vote of its pair
     * and {@code chosen} is the response most votes preferred (A on a draw). Ties and skips carry no order and are
     * left out (the Bradley–Terry likelihood has no term for them). The responses are the policy's samples, so a
     * prompt + response longer than the context keeps its last tokens ({@link SequenceEncoder#encodeKeepingEnd}).
     *
     * @throws IllegalArgumentException if a prompt + response is empty
     */
    public static List<PreferenceExample> from(List<JudgedComparison> judged, SequenceEncoder encoder) {
        Map<Comparison, List<JudgedComparison>> byComparison = new LinkedHashMap<>();
        for (JudgedComparison j : judged) {
            Verdict verdict = j.judgment().verdict();
            if (verdict == Verdict.A || verdict == Verdict.B) {
                byComparison.computeIfAbsent(j.comparison(), c -> new ArrayList<>()).add(j);
            }
        }
        List<PreferenceExample> examples = new ArrayList<>(byComparison.size());
        byComparison.forEach((c, judgments) -> {
            long forA = judgments.stream().filter(j -> j.judgment().verdict() == Verdict.A).count();
            boolean aChosen = 2 * forA >= judgments.size();
            List<PreferenceExample.Vote> votes = new ArrayList<>(judgments.size());
            for (JudgedComparison j : judgments) {
                boolean forChosen = (j.judgment().verdict() == Verdict.A) == aChosen;
                votes.add(new PreferenceExample.Vote(forChosen, j.judgment().strength()));
            }
            String chosen = aChosen ? c.responseA() : c.responseB();
            String rejected = aChosen ? c.responseB() : c.responseA();
            examples.add(new PreferenceExample(encoder.encodeKeepingEnd(c.prompt(), chosen),
                    encoder.encodeKeepingEnd(c.prompt(), rejected),
                    votes));
        });
        return examples;
    }
}
