package dev.rlhf.policy.bench;

import java.util.Arrays;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * How a learner's throughput scales with data-parallel replicas, measured side by side in one run: the same steps
 * on one replica and on N alternate, the order switching every step, so that whatever else loads a shared machine
 * falls on both alike.
 *
 * @param replicas N
 * @param oneReplica seconds of each step on one replica
 * @param replicated seconds of each step on N replicas
 */
public record ReplicaScaling(int replicas, double[] oneReplica, double[] replicated) {

    /**
     * Times {@code steps} steps of each; step {@code i} of both gets the same input.
     *
     * @param onOne runs step {@code i} on one replica
     * @param onMany runs step {@code i} on N replicas
     */
    public static ReplicaScaling measure(int replicas, int steps, IntConsumer onOne, IntConsumer onMany) {
        double[] one = new double[steps];
        double[] many = new double[steps];
        for (int i = 0; i < steps; i++) {
            if (i % 2 == 0) {
                one[i] = seconds(onOne, i);
                many[i] = seconds(onMany, i);
            } else {
                many[i] = seconds(onMany, i);
                one[i] = seconds(onOne, i);
            }
        }
        return new ReplicaScaling(replicas, one, many);
    }

    private static double seconds(IntConsumer step, int i) {
        long start = System.nanoTime();
        step.accept(i);
        return (System.nanoTime() - start) / 1e9;
    }

    /** Rate on N replicas over the rate on one. */
    public double speedup() {
        return Arrays.stream(oneReplica).sum() / Arrays.stream(replicated).sum();
    }

    /**
     * Adds {@code replicas}, {@code <unit>_per_s_one_replica}, {@code speedup} and {@code scaling_efficiency}
     * (speedup / N).
     *
     * @param unitsPerStep what one step processes, in {@code unit}s
     */
    public void report(Map<String, Object> result, String unit, double unitsPerStep) {
        result.put("replicas", replicas);
        result.put(unit + "_per_s_one_replica", unitsPerStep * oneReplica.length / Arrays.stream(oneReplica).sum());
        result.put("speedup", speedup());
        result.put("scaling_efficiency", speedup() / replicas);
    }
}
