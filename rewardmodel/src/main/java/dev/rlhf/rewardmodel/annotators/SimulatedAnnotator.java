package dev.rlhf.rewardmodel.annotators;

import dev.rlhf.policy.bootstrap.GoldScore;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import java.util.SplittableRandom;

/**
 * An annotator whose hidden taste is the {@link GoldScore}: it skips with its skip rate, calls a tie when the gold
 * difference is inside its tie band, and otherwise samples the winner from Bradley–Terry on the gold difference
 * at its temperature; the strength comes from the gold difference alone. Its draws come either from its own
 * seeded stream (the same seed and the same comparisons in the same order give the same judgments) or, for a
 * keyed judgment, from its seed and the key alone (the same task gets the same judgment whenever it is judged,
 * as a resumed run needs).
 */
public final class SimulatedAnnotator {
    private final AnnotatorProfile profile;
    private final AnnotatorPanelSettings panel;
    private final GoldScore gold;
    private final long seed;
    private final SplittableRandom random;

    SimulatedAnnotator(AnnotatorProfile profile, AnnotatorPanelSettings panel, GoldScore gold, long seed) {
        this.profile = profile;
        this.panel = panel;
        this.gold = gold;
        this.seed = seed;
        this.random = new SplittableRandom(seed);
    }

    public AnnotatorProfile profile() {
        return profile;
    }

    /** Judges one comparison with the next draws of this annotator's stream. */
    public Judgment judge(Comparison comparison) {
        // draw both numbers every time, so one judgment's outcome never shifts the stream of the next
        return judge(comparison, random.nextDouble(), random.nextDouble());
    }

    /** Judges one comparison with draws that depend only on this annotator's seed and {@code key} (a task id). */
    public Judgment judge(Comparison comparison, String key) {
        SplittableRandom draws = new SplittableRandom(seed ^ hash64(key));
        return judge(comparison, draws.nextDouble(), draws.nextDouble());
    }

    private Judgment judge(Comparison comparison, double skipDraw, double winnerDraw) {
        if (skipDraw < profile.skipRate()) {
            return new Judgment(profile.id(), Verdict.SKIP, 0);
        }
        double difference = gold.score(comparison.prompt(), comparison.responseA())
                - gold.score(comparison.prompt(), comparison.responseB());
        if (Math.abs(difference) < profile.tieBand()) {
            return new Judgment(profile.id(), Verdict.TIE, 0);
        }
        double probabilityA = 1 / (1 + Math.exp(-difference / profile.temperature()));
        Verdict verdict = winnerDraw < probabilityA ? Verdict.A : Verdict.B;
        return new Judgment(profile.id(), verdict, panel.strength(difference));
    }

    private static long hash64(String key) {
        long h = 1125899906842597L;
        for (int i = 0; i < key.length(); i++) {
            h = 31 * h + key.charAt(i);
        }
        return h * 0x9E3779B97F4A7C15L;
    }
}
