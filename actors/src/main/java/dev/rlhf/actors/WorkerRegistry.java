package dev.rlhf.actors;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The rollout workers of a run, in join order, each with the weight version it last acknowledged (-1 before its
 * first). The coordinator publishes weights through it: a publication is over once every worker holds the new
 * version, and a rollout uses only the workers that hold the latest one.
 *
 * @param <W> a worker's handle
 */
final class WorkerRegistry<W> {
    private static final long NONE = -1;

    private final Map<W, Long> versions = new LinkedHashMap<>();

    /** A worker that holds {@code version} already (spawned from the latest snapshot). */
    void add(W worker, long version) {
        versions.put(worker, version);
    }

    /** A worker that joined and holds no published version yet. */
    void join(W worker) {
        versions.put(worker, NONE);
    }

    /** Records that {@code worker} holds {@code version}; false if the worker was dropped meanwhile. */
    boolean loaded(W worker, long version) {
        return versions.replace(worker, version) != null;
    }

    /** Drops {@code worker}; false if it was not there. */
    boolean remove(Object worker) {
        return versions.remove(worker) != null;
    }

    boolean contains(Object worker) {
        return versions.containsKey(worker);
    }

    /** The workers that hold {@code version}, in join order. */
    List<W> holding(long version) {
        return versions.entrySet().stream()
                .filter(entry -> entry.getValue() == version)
                .map(Map.Entry::getKey)
                .toList();
    }

    /** Whether every worker holds {@code version} (also when there is none). */
    boolean allHold(long version) {
        return versions.values().stream().allMatch(held -> held == version);
    }

    Set<W> workers() {
        return versions.keySet();
    }

    int size() {
        return versions.size();
    }
}
