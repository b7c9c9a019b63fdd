package dev.rlhf.rewardmodel;

import java.util.ArrayList;
import java.util.List;

/** Turns judged comparisons into reward-model training pairs. */
public final class PreferenceExamples {
    private PreferenceExamples() {}

    /**
     * The ordered judgments as (chosen, rejected) token pairs with their strength; ties and skips carry no order
     * and are left out (the Bradley–Terry likelihood has no term for them).
     *
     * @throws IllegalArgumentException if a prompt + response does not fit the encoder's context
     */
    public static List<PreferenceExample> from(List<JudgedComparison> judged, SequenceEncoder encoder) {
        List<PreferenceExample> examples = new ArrayList<>(judged.size());
        for (JudgedComparison j : judged) {
            Comparison c = j.comparison();
            Verdict verdict = j.judgment().verdict();
            if (verdict == Verdict.A || verdict == Verdict.B) {
                String chosen = verdict == Verdict.A ? c.responseA() : c.responseB();
                String rejected = verdict == Verdict.A ? c.responseB() : c.responseA();
                examples.add(new PreferenceExample(encoder.encode(c.prompt(), chosen),
                        encoder.encode(c.prompt(), rejected), j.judgment().strength()));
            }
        }
        return examples;
    }
}
