package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for a batch being generated, preallocated to a fixed number of positions so a
 * decoding step writes one slot in place instead of concatenating. Keys are stored transposed
 * ({@code [batch, heads, headDim, capacity]}) so that attention scores are one plain matrix product.
 * Unwritten slots are zero and must be masked out by the caller's attention bias.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final GptConfig config;
    private final int capacity;
    private final NDArray[] keys;
    private final NDArray[] values;
    private int batchSize;

    private KvCache(NDManager manager, GptConfig config, int batchSize, int capacity) {
        this.manager = manager;
        this.config = config;
        this.batchSize = batchSize;
        this.capacity = capacity;
        this.keys = new NDArray[config.layers()];
        this.values = new NDArray[config.layers()];
        for (int layer = 0; layer < config.layers(); layer++) {
            keys[layer] = manager.zeros(new Shape(batchSize, config.heads(), config.headDim(), capacity));
            values[layer] = manager.zeros(new Shape(batchSize, config.heads(), capacity, config.headDim()));
        }
    }

    /**
     * Allocates a zeroed cache in a new sub-manager of {@code parent}. A slot holds one column of a padded batch,
     * so a left-padded batch may need more slots than the context length (its padded prompt plus the longest
     * row's budget); positions, not slots, are bounded by the context length.
     *
     * @throws IllegalArgumentException if {@code capacity} is not positive or exceeds twice the context length
     */
    public static KvCache allocate(NDManager parent, GptConfig config, int batchSize, int capacity) {
        if (capacity <= 0 || capacity > 2 * config.contextLength()) {
            throw new IllegalArgumentException("capacity " + capacity + " must be in [1, 2 * context length "
                    + config.contextLength() + "]");
        }
        return new KvCache(parent.newSubManager(), config, batchSize, capacity);
    }

    public int capacity() {
        return capacity;
    }

    public int batchSize() {
        return batchSize;
    }

    NDArray keys(int layer) {
        return keys[layer];
    }

    NDArray values(int layer) {
        return values[layer];
    }

    /** Writes the keys and values of positions {@code 0..k.size(2)-1}; both are {@code [batch, heads, len, headDim]}. */
    void writePrefix(int layer, NDArray k, NDArray v) {
        long len = k.getShape().get(2);
        long heads = config.heads();
        long headDim = config.headDim();
        TorchOps.copyIntoSlice(keys[layer], k.transpose(0, 1, 3, 2),
                new long[] {0, 0, 0, 0}, new long[] {batchSize, heads, headDim, len});
        TorchOps.copyIntoSlice(values[layer], v,
                new long[] {0, 0, 0, 0}, new long[] {batchSize, heads, len, headDim});
    }

    /** Writes one position; {@code k} and {@code v} are {@code [batch, dModel]} (heads concatenated). */
    void write(int layer, int slot, NDArray k, NDArray v) {
        long heads = config.heads();
        long headDim = config.headDim();
        TorchOps.copyIntoSlice(keys[layer], k.reshape(batchSize, heads, headDim, 1),
                new long[] {0, 0, 0, slot}, new long[] {batchSize, heads, headDim, slot + 1});
        TorchOps.copyIntoSlice(values[layer], v.reshape(batchSize, heads, 1, headDim),
                new long[] {0, 0, slot, 0}, new long[] {batchSize, heads, slot + 1, headDim});
    }

    /** Keeps only the given batch rows, in that order, so finished sequences stop costing compute. */
    public void keepRows(long[] rows) {
        try (NDManager scratch = manager.newSubManager()) {
            NDArray index = scratch.create(rows);
            for (int layer = 0; layer < keys.length; layer++) {
                keys[layer] = replace(keys[layer], keys[layer].get(index));
                values[layer] = replace(values[layer], values[layer].get(index));
            }
        }
        batchSize = rows.length;
    }

    private NDArray replace(NDArray old, NDArray kept) {
        kept.attach(manager);
        old.close();
        return kept;
    }

    @Override
    public void close() {
        manager.close();
    }
}
