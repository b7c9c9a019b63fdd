package dev.rlhf.policy.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Keys and values of every layer for the rows of a running batch, preallocated (rows x columns) so that a
 * decoding step writes one column in place instead of concatenating. All rows write the same column at each
 * step; a row's tokens occupy a contiguous run of columns ending there (prompts are left-aligned to the column
 * where they join). Keys are stored transposed ({@code [rows, heads, headDim, columns]}) so that attention
 * scores are one plain matrix product; values are {@code [rows, heads, columns, headDim]}. Columns outside a
 * row's run hold stale data and must be masked by the caller's attention bias.
 */
public final class KvCache implements AutoCloseable {
    private final NDManager manager;
    private final GptConfig config;
    private final int rows;
    private final int columns;
    private final NDArray[] keys;
    private final NDArray[] values;

    /** Where a prefill writes: its batch row 0 goes to cache row {@code firstRow}, its position 0 to {@code firstColumn}. */
    public record Region(KvCache cache, int firstRow, int firstColumn) {}

    private KvCache(NDManager manager, GptConfig config, int rows, int columns) {
        this.manager = manager;
        this.config = config;
        this.rows = rows;
        this.columns = columns;
        this.keys = new NDArray[config.layers()];
        this.values = new NDArray[config.layers()];
        for (int layer = 0; layer < config.layers(); layer++) {
            keys[layer] = manager.zeros(new Shape(rows, config.heads(), config.headDim(), columns));
            values[layer] = manager.zeros(new Shape(rows, config.heads(), columns, config.headDim()));
        }
    }

    /** Allocates a zeroed cache in a new sub-manager of {@code parent}. */
    public static KvCache allocate(NDManager parent, GptConfig config, int rows, int columns) {
        if (rows <= 0 || columns <= 0) {
            throw new IllegalArgumentException("rows and columns must be positive but were " + rows + ", " + columns);
        }
        return new KvCache(parent.newSubManager(), config, rows, columns);
    }

    public int rows() {
        return rows;
    }

    public int columns() {
        return columns;
    }

    /** Writes a prefill's keys and values ({@code [batch, heads, length, headDim]}) at {@code region}. */
    void writePrefix(Region region, int layer, NDArray k, NDArray v) {
        Shape shape = k.getShape();
        long batch = shape.get(0);
        long length = shape.get(2);
        long r0 = region.firstRow();
        long c0 = region.firstColumn();
        long heads = config.heads();
        long headDim = config.headDim();
        TorchOps.copyIntoSlice(keys[layer], k.transpose(0, 1, 3, 2),
                new long[] {r0, 0, 0, c0}, new long[] {r0 + batch, heads, headDim, c0 + length});
        TorchOps.copyIntoSlice(values[layer], v,
                new long[] {r0, 0, c0, 0}, new long[] {r0 + batch, heads, c0 + length, headDim});
    }

    /** Writes column {@code column} of rows {@code 0..k.size(0)-1}; {@code k} and {@code v} are {@code [rows, dModel]}. */
    void writeColumn(int layer, int column, NDArray k, NDArray v) {
        long n = k.getShape().get(0);
        long heads = config.heads();
        long headDim = config.headDim();
        TorchOps.copyIntoSlice(keys[layer], k.reshape(n, heads, headDim, 1),
                new long[] {0, 0, 0, column}, new long[] {n, heads, headDim, column + 1});
        TorchOps.copyIntoSlice(values[layer], v.reshape(n, heads, 1, headDim),
                new long[] {0, 0, column, 0}, new long[] {n, heads, column + 1, headDim});
    }

    /** View of the keys of rows {@code 0..n-1}, columns {@code from..to-1}: {@code [n, heads, headDim, to - from]}. */
    NDArray keys(int layer, int n, int from, int to, NDManager scope) {
        return TorchOps.slice(keys[layer], new long[] {0, 0, 0, from},
                new long[] {n, config.heads(), config.headDim(), to}, scope);
    }

    /** View of the values of rows {@code 0..n-1}, columns {@code from..to-1}: {@code [n, heads, to - from, headDim]}. */
    NDArray values(int layer, int n, int from, int to, NDManager scope) {
        return TorchOps.slice(values[layer], new long[] {0, 0, from, 0},
                new long[] {n, config.heads(), to, config.headDim()}, scope);
    }

    /** Copies columns {@code from..to-1} of row {@code source} into row {@code target} (compaction). */
    public void copyRow(int source, int target, int from, int to) {
        try (NDManager scratch = manager.newSubManager()) {
            long heads = config.heads();
            long headDim = config.headDim();
            for (int layer = 0; layer < keys.length; layer++) {
                NDArray k = TorchOps.slice(keys[layer], new long[] {source, 0, 0, from},
                        new long[] {source + 1, heads, headDim, to}, scratch);
                TorchOps.copyIntoSlice(keys[layer], k,
                        new long[] {target, 0, 0, from}, new long[] {target + 1, heads, headDim, to});
                NDArray v = TorchOps.slice(values[layer], new long[] {source, 0, from, 0},
                        new long[] {source + 1, heads, to, headDim}, scratch);
                TorchOps.copyIntoSlice(values[layer], v,
                        new long[] {target, 0, from, 0}, new long[] {target + 1, heads, to, headDim});
            }
        }
    }

    /** Moves columns {@code from..to-1} of rows {@code 0..n-1} to columns {@code 0..to-from-1}. */
    public void shiftColumnsLeft(int n, int from, int to) {
        try (NDManager scratch = manager.newSubManager()) {
            long heads = config.heads();
            long headDim = config.headDim();
            long width = to - from;
            for (int layer = 0; layer < keys.length; layer++) {
                // through a copy: source and target ranges may overlap
                NDArray k = TorchOps.slice(keys[layer], new long[] {0, 0, 0, from},
                        new long[] {n, heads, headDim, to}, scratch).duplicate();
                TorchOps.copyIntoSlice(keys[layer], k, new long[] {0, 0, 0, 0}, new long[] {n, heads, headDim, width});
                NDArray v = TorchOps.slice(values[layer], new long[] {0, 0, from, 0},
                        new long[] {n, heads, to, headDim}, scratch).duplicate();
                TorchOps.copyIntoSlice(values[layer], v, new long[] {0, 0, 0, 0}, new long[] {n, heads, width, headDim});
            }
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
