package dev.rlhf.rewardmodel.annotators;

import java.util.Objects;

/**
 * How one simulated annotator judges: Bradley–Terry on the gold score at its own temperature.
 *
 * @param id the annotator's name
 * @param temperature scale of the gold difference: A wins with probability
 *     {@code sigmoid((gold(A) - gold(B)) / temperature)}, so a careful annotator has a small one and a careless
 *     one a large one
 * @param tieBand gold differences smaller than this are judged a tie (0: never a tie)
 * @param skipRate probability of declining to judge at all
 */
public record AnnotatorProfile(String id, double temperature, double tieBand, double skipRate) {
    public AnnotatorProfile {
        Objects.requireNonNull(id, "id");
        if (id.isBlank()) {
            throw new IllegalArgumentException("id must not be blank");
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("temperature of " + id + " must be positive but was " + temperature);
        }
        if (!(tieBand >= 0)) {
            throw new IllegalArgumentException("tieBand of " + id + " must not be negative but was " + tieBand);
        }
        if (!(skipRate >= 0 && skipRate < 1)) {
            throw new IllegalArgumentException("skipRate of " + id + " must be in [0, 1) but was " + skipRate);
        }
    }
}
