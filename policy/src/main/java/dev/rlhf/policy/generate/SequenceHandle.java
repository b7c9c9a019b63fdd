package dev.rlhf.policy.generate;

/** A sequence submitted to a {@link BatchEngine}. */
public final class SequenceHandle {
    private final SequenceState state;

    SequenceHandle(SequenceState state) {
        this.state = state;
    }

    /**
     * Stops the sequence: it leaves the batch at the next step boundary, freeing its row, and its listener hears
     * nothing more. Safe from any thread; a no-op once it has finished.
     */
    public void cancel() {
        state.cancelled = true;
    }
}
