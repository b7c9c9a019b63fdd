package dev.rlhf.serve;

import dev.rlhf.policy.generate.BatchEngine;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SequenceHandle;
import dev.rlhf.policy.generate.SequenceListener;
import dev.rlhf.policy.generate.TokenDecoder;
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
 * One thread that owns a {@link BatchEngine}: it steps the engine while any sequence runs or waits and parks
 * when there is none, so sequences submitted from any thread join the running batch at the next token boundary.
 * At most {@code maxBatch + maxQueued} sequences are in flight; beyond that a submission is refused at once.
 */
public final class GenerationScheduler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(GenerationScheduler.class);

    /** Hears one sequence; all calls come from the scheduler's thread and must be quick. */
    public interface Observer extends SequenceListener {
        /** The engine failed while the sequence ran; this is its last event. */
        void onFailed(RuntimeException cause);
    }

    private final GptModel model;
    private final TokenDecoder decoder;
    private final int maxBatch;
    private final int capacity;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Set<Sequence> live = ConcurrentHashMap.newKeySet();
    private final Thread thread;
    private volatile boolean open = true;
    private volatile int running;
    private volatile BatchEngine engine;

    /**
     * Starts the scheduler's thread.
     *
     * @param decoder turns ids into text, or null for a model served without tokenizer
     */
    public GenerationScheduler(GptModel model, TokenDecoder decoder, int maxBatch, int maxQueued) {
        this.model = model;
        this.decoder = decoder;
        this.maxBatch = maxBatch;
        this.capacity = maxBatch + maxQueued;
        this.engine = new BatchEngine(model, decoder, maxBatch);
        this.thread = new Thread(this::loop, "generation-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues every request, each with its observer, or none of them.
     *
     * @return one sequence per request, in order
     * @throws RejectedExecutionException if the queue lacks room for all of them, or the scheduler is closed
     * @throws IllegalArgumentException if the engine refuses a request (see {@link BatchEngine#submit})
     */
    public List<Sequence> submitAll(List<GenerationRequest> requests, List<? extends Observer> observers) {
        int count = requests.size();
        reserve(count);
        List<Sequence> submitted = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                Sequence tracked = new Sequence(observers.get(i));
                live.add(tracked);
                submitted.add(tracked);
                tracked.handle = engine.submit(requests.get(i), tracked);
            }
        } catch (RuntimeException e) {
            submitted.forEach(Sequence::cancel);
            inFlight.addAndGet(submitted.size() - count);
            throw e;
        }
        LockSupport.unpark(thread);
        return submitted;
    }

    /** Sequences decoding in the engine's batch after its latest step. */
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
            if (!engine.hasWork()) {
                running = 0;
                LockSupport.park(this);
                continue;
            }
            try {
                engine.step();
                running = engine.runningCount();
            } catch (RuntimeException e) {
                LOG.error("generation step failed; failing {} sequences and starting a fresh batch", live.size(), e);
                restartEngine(e);
            }
        }
        engine.close();
    }

    /** The engine's batch state is unknown after a failed step: fail everyone in it and start over. */
    private void restartEngine(RuntimeException cause) {
        engine.close();
        for (Sequence tracked : List.copyOf(live)) {
            if (tracked.complete()) {
                tracked.observer.onFailed(cause);
            }
        }
        engine = new BatchEngine(model, decoder, maxBatch);
        running = 0;
    }

    /** Stops the thread after its current step; sequences still in flight hear nothing more. */
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
        private final AtomicBoolean done = new AtomicBoolean();
        private volatile SequenceHandle handle;

        private Sequence(Observer observer) {
            this.observer = observer;
        }

        @Override
        public void onToken(int tokenId, float logprob) {
            observer.onToken(tokenId, logprob);
        }

        @Override
        public void onFinished(Completion completion) {
            if (complete()) {
                observer.onFinished(completion);
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
