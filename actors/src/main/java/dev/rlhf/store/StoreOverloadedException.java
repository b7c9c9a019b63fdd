package dev.rlhf.store;

/**
 * The store's queue of changes waiting for its writer is full ({@code rlhf.store.max-queued-changes}); nothing of
 * the change was stored, and the same change may be sent again later.
 */
public final class StoreOverloadedException extends RuntimeException {

    StoreOverloadedException(int maxQueued) {
        super("preference store is overloaded: " + maxQueued
                + " changes already wait for the writer (rlhf.store.max-queued-changes); retry later");
    }
}
