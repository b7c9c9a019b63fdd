package dev.rlhf.store;

/**
 * One logical change to the store, run on the single writer thread of {@link GroupCommitter}: it
 * reads and stages writes through a {@link ChangeScope}, and its result is handed to the caller only
 * after the staged writes are durable. Throwing {@link ChangeRejectedException} discards them.
 */
@FunctionalInterface
interface StoreChange<T> {

    T apply(ChangeScope scope);

    /**
     * True if the change scans column families; it then runs first in a fresh group, so the scan
     * sees every earlier change (scans read committed data, point reads also see the group's).
     */
    default boolean scansCommittedState() {
        return false;
    }
}
