package dev.rlhf.policy.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.model.GptConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The products with weight matrices that a benchmark's workload runs, and how long they take when each runs alone
 * at the best speed measured on this machine in this run: the "sgemm bound" the performance targets are set
 * against. A benchmark reports its throughput next to the throughput this bound allows, so that figures taken on
 * machines of different speed, or on one machine under different load, can be compared as a fraction.
 *
 * <p>The bound is optimistic on purpose: products measured alone find their weights in cache, and everything
 * else a step does (attention, normalisation, activations, softmax, the optimiser) counts as free.
 */
public final class GemmRoofline {
    /** Which operand is the weight matrix {@code W [out, in]} and how it is read, as the model and autograd do. */
    private enum Form {
        /** {@code x W^T}: a forward linear layer. */
        FORWARD,
        /** {@code dy W}: the gradient of a linear layer's input. */
        INPUT_GRADIENT,
        /** {@code dy^T x}: the gradient of a linear layer's weight. */
        WEIGHT_GRADIENT,
        /** {@code W h^T}: the decoding step's vocabulary-major language-model head. */
        VOCABULARY_MAJOR
    }

    private record Product(Form form, long rows, long in, long out) {
        double flops() {
            return 2.0 * rows * in * out;
        }
    }

    private static final int ROUNDS = 3;
    private static final int WARMUP = 2;
    private static final int MIN_REPETITIONS = 5;
    private static final long MIN_MEASURED_NANOS = 10_000_000L;

    private final Map<Product, Long> counts = new LinkedHashMap<>();

    /**
     * Adds {@code times} passes of the transformer trunk over {@code rows} sequences of {@code length} tokens whose
     * last block runs at {@code queries} positions per row (as {@code GptModel.hiddenStatesAt} does), with their
     * backward products when {@code backward}. A head on the queried positions is added apart ({@link #linear}).
     */
    public GemmRoofline trunk(GptConfig config, long rows, long length, long queries, boolean backward, long times) {
        long d = config.dModel();
        long tokens = rows * length;
        long queried = rows * queries;
        for (int layer = 0; layer < config.layers() - 1; layer++) {
            block(tokens, tokens, d, backward, times);
        }
        linear(tokens, d, 2 * d, backward, times); // the last block's keys and values
        linear(queried, d, d, backward, times); // its queries
        attentionOutputAndMlp(queried, d, backward, times);
        return this;
    }

    /**
     * Adds a generation batch: the prefill of {@code rows} prompts of {@code promptLength} tokens and
     * {@code steps} single-token decoding steps, each ending in the vocabulary-major head.
     */
    public GemmRoofline generation(GptConfig config, long rows, long promptLength, long steps) {
        long d = config.dModel();
        for (int layer = 0; layer < config.layers(); layer++) {
            block(rows * promptLength, rows * promptLength, d, false, 1);
            block(rows, rows, d, false, steps);
        }
        add(new Product(Form.VOCABULARY_MAJOR, rows, d, config.vocabSize()), steps + 1);
        return this;
    }

    /**
     * Measures the bound now and puts it into a bench's {@code result} beside the {@code measuredRate} it reached:
     * {@code gemm_gflop_per_<workload>}, {@code gemm_bound_<unit>_per_s} (with {@code units} per workload) and
     * {@code fraction_of_gemm_bound}.
     */
    public void report(Map<String, Object> result, String workload, String unit, double units, double measuredRate,
            NDManager manager) {
        double bound = units / seconds(manager);
        result.put("gemm_gflop_per_" + workload, gigaflops());
        result.put("gemm_bound_" + unit + "_per_s", bound);
        result.put("fraction_of_gemm_bound", measuredRate / bound);
    }

    /** Giga floating-point operations of all the products added. */
    public double gigaflops() {
        return counts.entrySet().stream().mapToDouble(e -> e.getKey().flops() * e.getValue()).sum() / 1e9;
    }

    /**
     * Seconds all the products take at the best speed each reaches alone, measured now: each product's best time
     * over {@value #ROUNDS} rounds through all of them, so that a stall of the machine during one product's turn
     * does not stand for its speed.
     */
    public double seconds(NDManager parent) {
        Map<Product, Long> best = new LinkedHashMap<>();
        for (int round = 0; round < ROUNDS; round++) {
            for (Product product : counts.keySet()) {
                best.merge(product, bestNanos(product, parent), Math::min);
            }
        }
        return counts.entrySet().stream().mapToDouble(e -> best.get(e.getKey()) / 1e9 * e.getValue()).sum();
    }

    private void block(long keyRows, long queryRows, long d, boolean backward, long times) {
        linear(keyRows, d, 3 * d, backward, times);
        attentionOutputAndMlp(queryRows, d, backward, times);
    }

    private void attentionOutputAndMlp(long rows, long d, boolean backward, long times) {
        linear(rows, d, d, backward, times);
        linear(rows, d, 4 * d, backward, times);
        linear(rows, 4 * d, d, backward, times);
    }

    /**
     * Adds {@code times} linear layers from {@code in} to {@code out} features over {@code rows} rows, with the
     * gradients of their input and weight when {@code backward}.
     */
    public GemmRoofline linear(long rows, long in, long out, boolean backward, long times) {
        add(new Product(Form.FORWARD, rows, in, out), times);
        if (backward) {
            add(new Product(Form.INPUT_GRADIENT, rows, in, out), times);
            add(new Product(Form.WEIGHT_GRADIENT, rows, in, out), times);
        }
        return this;
    }

    private void add(Product product, long times) {
        counts.merge(product, times, Long::sum);
    }

    private static long bestNanos(Product p, NDManager parent) {
        try (NDManager manager = parent.newSubManager()) {
            NDArray weight = manager.randomNormal(new Shape(p.out(), p.in()));
            NDArray input = manager.randomNormal(new Shape(p.rows(), p.in()));
            NDArray outputGradient = manager.randomNormal(new Shape(p.rows(), p.out()));
            // transposed views, as autograd and the decoding step pass them to the product
            NDArray outputGradientTransposed = outputGradient.transpose();
            NDArray inputTransposed = input.transpose();
            long best = Long.MAX_VALUE;
            long measured = 0;
            for (int i = 0; i < WARMUP + MIN_REPETITIONS || measured < MIN_MEASURED_NANOS; i++) {
                try (NDManager scratch = manager.newSubManager()) {
                    long start = System.nanoTime();
                    NDArray result = switch (p.form()) {
                        case FORWARD -> input.getNDArrayInternal().linear(input, weight, null).singletonOrThrow();
                        case INPUT_GRADIENT -> outputGradient.matMul(weight);
                        case WEIGHT_GRADIENT -> outputGradientTransposed.matMul(input);
                        case VOCABULARY_MAJOR -> weight.matMul(inputTransposed);
                    };
                    long elapsed = System.nanoTime() - start;
                    result.attach(scratch);
                    if (i >= WARMUP) {
                        best = Math.min(best, elapsed);
                        measured += elapsed;
                    }
                }
            }
            return best;
        }
    }
}
