package dev.rlhf.serve;

import dev.rlhf.policy.generate.BatchEngine;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SequenceHandle;
import dev.rlhf.policy.generate.SequenceListener;
import dev.rlhf.policy.generate.TokenDecoder;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thread that owns the {@link BatchEngine}s: it steps them while any sequence runs or waits and parks when
 * there is none, so sequences submitted from any thread join the running batch at the next token boundary. At
 * most {@code maxBatch + maxQueued} sequences are in flight; beyond that a submission is refused at once.
 *
 * <p>Weights are hot-swapped between steps ({@link #swap}): sequences submitted from then on decode with the new
 * weights in a fresh engine, while every sequence submitted before, running or still queued, finishes on the
 * weights it was submitted under (a KV cache computed with the old weights cannot be continued with the new). The
 * old engine is stepped beside the new one until its last sequence ends, then it and its weights are closed.
 */
public final class GenerationScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationScheduler.class);

    /** Hears one sequence; all calls come from the scheduler's thread and must be quick. */
    public interface Observer {
        /** A token was generated. */
        default void onToken(int tokenId, float logprob) {}

        /** The sequence ended, decoded by {@code weights}; this is its last event. */
        void onFinished(Completion completion, PolicyWeights weights);

        /** The engine failed while the sequence ran; this is its last event. */
        void onFailed(RuntimeException cause);
    }

    /** Weights and the engine decoding with them. */
    private record Batch(PolicyWeights weights, BatchEngine engine) {}

    private final PolicyWeights initial;
    private final TokenDecoder decoder;
    private final int maxBatch;
    private final int capacity;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Set<Sequence> live = ConcurrentHashMap.newKeySet();
    /** Guards which engine takes submissions and which engines drain, so no sequence enters a retired engine. */
    private final Object lock = new Object();
    private final Thread thread;
    /** Engines of swapped-out weights still finishing their sequences; guarded by {@link #lock}. */
    private final List<Batch> draining = new ArrayList<>();
    private volatile boolean open = true;
    private volatile int running;
    private volatile Batch current;
    /** Guarded by {@link #lock}. */
    private long latestVersion;

    /**
     * Starts the scheduler's thread. {@code initial} stays the caller's while it is served; once it is swapped
     * out and its sequences have ended, the scheduler closes it.
     *
     * @param decoder turns ids into text, or null for a model served without tokenizer
     */
    public GenerationScheduler(PolicyWeights initial, TokenDecoder decoder, int maxBatch, int maxQueued) {
        this.initial = initial;
        this.decoder = decoder;
        this.maxBatch = maxBatch;
        this.capacity = maxBatch + maxQueued;
        this.latestVersion = initial.version();
        this.current = new Batch(initial, new BatchEngine(initial.model(), decoder, maxBatch));
        this.thread = new Thread(this::loop, "generation-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues every request, each with its observer, or none of them. All of them decode with the weights current
     * now.
     *
     * @return one sequence per request, in order
     * @throws RejectedExecutionException if the queue lacks room for all of them, or the scheduler is closed
     * @throws IllegalArgumentException if the engine refuses a request (see {@link BatchEngine#submit})
     */
    public List<Sequence> submitAll(List<GenerationRequest> requests, List<? extends Observer> observers) {
        int count = requests.size();
        List<Sequence> submitted = new ArrayList<>(count);
        synchronized (lock) {
            reserve(count);
            Batch batch = current;
            try {
                for (int i = 0; i < count; i++) {
                    Sequence tracked = new Sequence(observers.get(i), batch.weights());
                    live.add(tracked);
                    submitted.add(tracked);
                    tracked.handle = batch.engine().submit(requests.get(i), tracked);
                }
            } catch (RuntimeException e) {
                submitted.forEach(Sequence::cancel);
                inFlight.addAndGet(submitted.size() - count);
                throw e;
            }
        }
        LockSupport.unpark(thread);
        return submitted;
    }

    /**
     * Serves {@code model} to every sequence submitted once this returns; the scheduler owns it from here. Its KV
     * cache is allocated on the calling thread, so decoding goes on meanwhile.
     *
     * @return the weight version the model is served as: one more than the last
     * @throws IllegalArgumentException if the model's config differs from the served one (requests are checked
     *     against it); the model is then closed
     * @throws RejectedExecutionException if the scheduler is closed; the model is then closed
     */
    public long swap(GptModel model, String checkpointId) {
        GptConfig served = initial.model().config();
        if (!model.config().equals(served)) {
            model.close();
            throw new IllegalArgumentException("cannot swap in " + checkpointId + ": its config " + model.config()
                    + " differs from the served " + served);
        }
        BatchEngine engine = new BatchEngine(model, decoder, maxBatch);
        PolicyWeights weights;
        synchronized (lock) {
            if (!open) {
                engine.close();
                model.close();
                throw new RejectedExecutionException("the generation scheduler is shut down");
            }
            weights = new PolicyWeights(model, checkpointId, ++latestVersion);
            draining.add(current);
            current = new Batch(weights, engine);
        }
        LockSupport.unpark(thread);
        LOG.info("serving weight version {} ({}); earlier calls finish on their weights", weights.version(),
                checkpointId);
        return weights.version();
    }

    /** The weights new submissions decode with. */
    public PolicyWeights currentWeights() {
        return current.weights();
    }

    /** Sequences decoding in the engines' batches after their latest step. */
    public int runningCount() {
        return running;
    }

    /** Sequences submitted and neither finished nor cancelled. */
    public int inFlightCount() {
        return inFlight.get();
    }

    private void reserve(int count) {
        if (!open) {
            throw new RejectedExecutionException("the generation scheduler is shut down");
        }
        int current;
        do {
            current = inFlight.get();
            if (current + count > capacity) {
                throw new RejectedExecutionException("generation queue is full: " + current + " sequences in flight, "
                        + count + " more asked for, at most " + capacity + " (" + maxBatch + " decoding + queue)");
            }
        } while (!inFlight.compareAndSet(current, current + count));
    }

    private void loop() {
        while (open) {
            List<Batch> old = retireDrained();
            Batch now = current;
            if (!now.engine().hasWork() && old.isEmpty()) {
                running = 0;
                LockSupport.park(this);
                continue;
            }
            try {
                int decoding = 0;
                for (Batch batch : old) {
                    batch.engine().step();
                    decoding += batch.engine().runningCount();
                }
                now.engine().step();
                running = decoding + now.engine().runningCount();
            } catch (RuntimeException e) {
                LOG.error("generation step failed; failing {} sequences and starting a fresh batch", live.size(), e);
                restartEngines(e);
            }
        }
        synchronized (lock) {
            current.engine().close();
            if (current.weights() != initial) {
                current.weights().close();
            }
            draining.forEach(GenerationScheduler::retire);
            draining.clear();
        }
    }

    /**
     * Closes the engines, and the weights, that no sequence uses any more (none joins a draining engine, so one
     * without work stays so); returns those still draining.
     */
    private List<Batch> retireDrained() {
        List<Batch> done = new ArrayList<>();
        List<Batch> left;
        synchronized (lock) {
            draining.removeIf(batch -> !batch.engine().hasWork() && done.add(batch));
            left = List.copyOf(draining);
        }
        for (Batch batch : done) {
            retire(batch);
            LOG.info("released weight version {}", batch.weights().version());
        }
        return left;
    }

    private static void retire(Batch batch) {
        batch.engine().close();
        batch.weights().close();
    }

    /** The engines' batch state is unknown after a failed step: fail everyone in flight and start over. */
    private void restartEngines(RuntimeException cause) {
        synchronized (lock) {
            current.engine().close();
            draining.forEach(GenerationScheduler::retire);
            draining.clear();
            for (Sequence tracked : List.copyOf(live)) {
                if (tracked.complete()) {
                    tracked.observer.onFailed(cause);
                }
            }
            current = new Batch(current.weights(), new BatchEngine(current.weights().model(), decoder, maxBatch));
            running = 0;
        }
    }

    /**
     * Stops the thread after its current step and closes the engines and the weights it owns; sequences still in
     * flight hear nothing more.
     */
    @Override
    public void close() {
        open = false;
        LockSupport.unpark(thread);
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A submitted sequence; it gives back its place in the queue exactly once, when it finishes or is cancelled. */
    public final class Sequence implements SequenceListener {
        private final Observer observer;
        private final PolicyWeights weights;
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile SequenceHandle handle;

        private Sequence(Observer observer, PolicyWeights weights) {
            this.observer = observer;
            this.weights = weights;
        }

        @Override
        public void onToken(int tokenId, float logprob) {
            observer.onToken(tokenId, logprob);
        }

        @Override
        public void onFinished(Completion completion) {
            if (complete()) {
                observer.onFinished(completion, weights);
            }
        }

        /** Stops the sequence: its batch row is free at the next step and its observer hears nothing more. */
        public void cancel() {
            if (handle != null) {
                handle.cancel();
            }
            if (complete()) {
                LockSupport.unpark(thread);
            }
        }

        /** Leaves the in-flight set; true for the one caller that got there first. */
        private boolean complete() {
            if (!done.compareAndSet(false, true)) {
                return false;
            }
            live.remove(this);
            inFlight.decrementAndGet();
            return true;
        }
    }
}
