package dev.rlhf.rewardmodel.annotators;

import com.typesafe.config.Config;
import java.util.List;

/**
 * A simulated annotator panel; read from {@code rlhf.annotators} (see reference.conf).
 *
 * @param seed seeds which annotator judges each comparison and every annotator's own draws
 * @param strength2 gold difference at or above which a judgment has strength 2
 * @param strength3 gold difference at or above which a judgment has strength 3
 * @param annotators the panel, at least one
 */
public record AnnotatorPanelSettings(long seed, double strength2, double strength3, List<AnnotatorProfile> annotators) {
    public AnnotatorPanelSettings {
        if (!(strength2 > 0 && strength2 <= strength3)) {
            throw new IllegalArgumentException("strength thresholds must satisfy 0 < strength2 <= strength3 but were "
                    + strength2 + ", " + strength3);
        }
        annotators = List.copyOf(annotators);
        if (annotators.isEmpty()) {
            throw new IllegalArgumentException("annotators must not be empty");
        }
        if (annotators.stream().map(AnnotatorProfile::id).distinct().count() != annotators.size()) {
            throw new IllegalArgumentException("annotator ids must be distinct but were "
                    + annotators.stream().map(AnnotatorProfile::id).toList());
        }
    }

    /** Reads the {@code rlhf.annotators} block. */
    public static AnnotatorPanelSettings from(Config config) {
        Config c = config.getConfig("rlhf.annotators");
        List<AnnotatorProfile> panel = c.getConfigList("panel").stream()
                .map(a -> new AnnotatorProfile(a.getString("id"), a.getDouble("temperature"), a.getDouble("tie-band"),
                        a.getDouble("skip-rate")))
                .toList();
        return new AnnotatorPanelSettings(c.getLong("seed"), c.getDouble("strength-2"), c.getDouble("strength-3"),
                panel);
    }

    /** Strength 1..3 of a preference with this gold difference. */
    public int strength(double goldDifference) {
        double margin = Math.abs(goldDifference);
        return margin >= strength3 ? 3 : margin >= strength2 ? 2 : 1;
    }
}
