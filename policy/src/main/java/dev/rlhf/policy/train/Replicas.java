package dev.rlhf.policy.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.TorchOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.IntConsumer;

/**
 * Data parallelism on one machine: a model (replica 0, the master, whose tensors the optimiser steps) and
 * {@code count - 1} copies of its weights, each replica with a thread of its own. A training step hands each replica
 * its share of a minibatch ({@link #map}), the shares' forward and backward passes run side by side (PyTorch runs a
 * backward on the thread that calls it, and the replicas' graphs share no tensor), then {@link #reduceGradients}
 * adds the copies' gradients into the master's in replica order, the optimiser steps the master (its parts on all
 * threads, {@link #forEachReplica}), and after {@link #broadcast} every copy takes the master's new weights, tensor
 * to tensor in native memory, on its own thread as its next task begins (while the master starts its own).
 *
 * <p>Nothing depends on which thread finishes first: the split is the caller's, each replica computes its share
 * alone, and the sum's order is fixed, so a run with {@code count} replicas gives the same floats every time. With
 * one replica every call runs on the caller's thread and the reduction and broadcast do nothing.
 *
 * <p>On the CPU the replicas share the intra-op thread setting ({@code JniUtils.setNumThreads}, one per role in a
 * run): N replicas keep N cores busy on a model whose matrices are too small for OpenMP to split well.
 *
 * @param <M> the model type, whose weights are a {@link GptWeights}
 */
public final class Replicas<M extends AutoCloseable> implements AutoCloseable {
    private final List<M> models;
    private final List<GptWeights> weights;
    /** The thread of each replica after the first (the first runs on the caller's). */
    private final List<ExecutorService> threads;
    /** Bumped by {@link #broadcast}; a copy whose {@link #copiedVersion} lags takes the master's weights. */
    private volatile long masterVersion;
    private final long[] copiedVersion;

    /** Work a replica does on its thread: the task's number and the replica's model. */
    @FunctionalInterface
    public interface Task<M, T> {
        T run(int task, M replica);
    }

    /** A replica's task failed; names the replica, the cause is what it threw. */
    public static final class ReplicaFailedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        ReplicaFailedException(int replica, Throwable cause) {
            super("learner replica " + replica + " failed: " + cause.getMessage(), cause);
        }
    }

    private Replicas(List<M> models, List<GptWeights> weights, List<ExecutorService> threads) {
        this.models = List.copyOf(models);
        this.weights = List.copyOf(weights);
        this.threads = List.copyOf(threads);
        this.copiedVersion = new long[models.size()];
    }

    /**
     * {@code count} replicas of {@code master}: the master itself and copies of its weights in sub-managers of its
     * own, every copy's tensors recording gradients. The replicas own the copies and their threads; the master
     * stays the caller's.
     *
     * @param weightsOf the weights of a model
     * @param wrap a model over copied weights, which it takes ownership of
     * @throws IllegalArgumentException if {@code count} is not positive
     */
    public static <M extends AutoCloseable> Replicas<M> of(M master, Function<M, GptWeights> weightsOf,
            Function<GptWeights, M> wrap, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("replicas must be positive but was " + count);
        }
        GptWeights masterWeights = weightsOf.apply(master);
        List<M> models = new ArrayList<>(List.of(master));
        List<GptWeights> weights = new ArrayList<>(List.of(masterWeights));
        List<ExecutorService> threads = new ArrayList<>();
        for (int k = 1; k < count; k++) {
            GptWeights copy = masterWeights.copy(masterWeights.manager());
            copy.tensors().values().forEach(t -> t.setRequiresGradient(true));
            models.add(wrap.apply(copy));
            weights.add(copy);
            String name = "learner-replica-" + k;
            threads.add(Executors.newSingleThreadExecutor(task -> {
                Thread thread = new Thread(task, name);
                thread.setDaemon(true);
                return thread;
            }));
        }
        return new Replicas<>(models, weights, threads);
    }

    public int count() {
        return models.size();
    }

    /** The master (replica 0). */
    public M master() {
        return models.get(0);
    }

    /**
     * Runs {@code tasks} tasks, task {@code i} on replica {@code i % count()}, each replica its tasks in order, all
     * replicas at once; the results in task order. A replica's thread records gradients when the caller's does.
     * Returns only once every replica has stopped, failed or not.
     *
     * @throws ReplicaFailedException for the first replica (in replica order) whose task threw
     */
    public <T> List<T> map(int tasks, Task<M, T> task) {
        boolean recording = JniUtils.isGradMode();
        List<Future<List<T>>> others = new ArrayList<>();
        for (int k = 1; k < count(); k++) {
            int replica = k;
            others.add(threads.get(k - 1).submit(() -> {
                try {
                    takeMasterWeights(replica);
                    JniUtils.setGradMode(recording);
                    return runShare(replica, tasks, task);
                } finally {
                    JniUtils.setGradMode(false);
                }
            }));
        }
        List<List<T>> byReplica = new ArrayList<>();
        RuntimeException failure = null;
        try {
            byReplica.add(runShare(0, tasks, task));
        } catch (RuntimeException e) {
            failure = new ReplicaFailedException(0, e);
        }
        for (int k = 1; k < count(); k++) {
            try {
                byReplica.add(others.get(k - 1).get());
            } catch (ExecutionException e) {
                failure = failure != null ? failure : new ReplicaFailedException(k, e.getCause());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = failure != null ? failure : new ReplicaFailedException(k, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        List<T> results = new ArrayList<>(tasks);
        for (int i = 0; i < tasks; i++) {
            results.add(byReplica.get(i % count()).get(i / count()));
        }
        return results;
    }

    /**
     * Runs {@code work(k)} on replica {@code k}'s thread for every replica at once: one part each of a piece of
     * work that the caller splits (the reduction, the optimiser's update).
     *
     * @throws ReplicaFailedException for the first replica whose part threw
     */
    public void forEachReplica(IntConsumer work) {
        map(count(), (k, replica) -> {
            work.accept(k);
            return k;
        });
    }

    private <T> List<T> runShare(int replica, int tasks, Task<M, T> task) {
        List<T> results = new ArrayList<>();
        for (int i = replica; i < tasks; i += count()) {
            results.add(task.run(i, models.get(replica)));
        }
        return results;
    }

    /**
     * Adds every copy's gradient into the master's, copies in replica order, and zeroes the copies' gradients: the
     * tensors shared out among the replicas' threads, each tensor summed by one. Call after the backward passes of
     * {@link #map}, before the optimiser steps the master.
     */
    public void reduceGradients() {
        if (count() == 1) {
            return;
        }
        GptWeights master = weights.get(0);
        List<String> names = List.copyOf(master.tensors().keySet());
        try (NDManager scratch = master.manager().newSubManager()) {
            forEachReplica(part -> {
                for (int i = part; i < names.size(); i += count()) {
                    NDArray sum = gradientOf(master.get(names.get(i)), scratch);
                    for (int k = 1; k < count(); k++) {
                        NDArray parameter = weights.get(k).get(names.get(i));
                        sum.addi(gradientOf(parameter, scratch));
                        JniUtils.zeroGrad((PtNDArray) parameter);
                    }
                }
            });
        }
    }

    /** The gradient of {@code parameter}; only its wrapper belongs to {@code scratch}, the gradient stays. */
    private static NDArray gradientOf(NDArray parameter, NDManager scratch) {
        NDArray gradient = parameter.getGradient();
        gradient.attach(scratch);
        return gradient;
    }

    /**
     * Marks the master's weights as changed: every copy takes them, without recording gradients, on its own thread
     * before its next task of {@link #map} or {@link #forEachReplica}.
     */
    public void broadcast() {
        masterVersion++;
    }

    /** Copies the master's weights into copy {@code k} if they changed since it last did. */
    private void takeMasterWeights(int k) {
        long version = masterVersion;
        if (copiedVersion[k] == version) {
            return;
        }
        Gradients.inferenceOnly();
        GptWeights copy = weights.get(k);
        weights.get(0).tensors().forEach((name, tensor) -> TorchOps.copyInto(copy.get(name), tensor));
        copiedVersion[k] = version;
    }

    /** Stops the replicas' threads and closes the copies; the master stays open. */
    @Override
    public void close() {
        threads.forEach(ExecutorService::shutdown);
        try {
            for (ExecutorService thread : threads) {
                thread.awaitTermination(1, TimeUnit.MINUTES);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (int k = 1; k < count(); k++) {
            try {
                models.get(k).close();
            } catch (Exception e) {
                throw new IllegalStateException("could not close learner replica " + k, e);
            }
        }
    }
}
