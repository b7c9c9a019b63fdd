package dev.rlhf.actors;

import dev.rlhf.policy.model.WeightsSnapshot;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The latest published policy weights, readable from any thread: a rollout worker restarted by its supervisor
 * rebuilds its replica from here, so it comes back at the current version rather than the SFT one.
 */
public final class WeightsBoard {
    private final AtomicReference<PublishedWeights> latest;

    public WeightsBoard(WeightsSnapshot initial) {
        this(new PublishedWeights.InProcess(initial));
    }

    public WeightsBoard(PublishedWeights initial) {
        this.latest = new AtomicReference<>(initial);
    }

    public PublishedWeights latest() {
        return latest.get();
    }

    /** Publishes {@code weights} if they are newer than the current ones. */
    public void publish(PublishedWeights weights) {
        latest.accumulateAndGet(weights, (current, next) -> next.version() > current.version() ? next : current);
    }

    /**
     * Makes {@code snapshot} the latest, newer or not: a rollout worker node follows whichever coordinator loads it
     * (a new run starts again from an older version).
     */
    public void replace(WeightsSnapshot snapshot) {
        latest.set(new PublishedWeights.InProcess(snapshot));
    }
}
