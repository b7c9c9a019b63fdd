package dev.rlhf.policy.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where autograd is switched on and off. DJL's PyTorch engine allows one {@link GradientCollector} per process,
 * and PyTorch's grad mode is per thread (on by default on a new thread); our roles train and infer side by side on
 * a pool of threads, so:
 * <ul>
 *   <li>training steps take turns through {@link #collect()}, forward, backward and optimiser step inside the
 *       turn: a background reward-model retraining and the PPO learner interleave step by step instead of
 *       failing;</li>
 *   <li>inference entry points call {@link #inferenceOnly()} so a pool thread never records a graph.</li>
 * </ul>
 */
public final class Gradients {
    private static final ReentrantLock TURN = new ReentrantLock(true);

    private Gradients() {}

    /** Waits for this process's turn to record gradients; closing the collector ends the turn. */
    public static GradientCollector collect() {
        TURN.lock();
        try {
            return new Turn(Engine.getInstance().newGradientCollector());
        } catch (RuntimeException e) {
            TURN.unlock();
            throw e;
        }
    }

    /** Turns autograd recording off on the calling thread. */
    public static void inferenceOnly() {
        JniUtils.setGradMode(false);
    }

    private static final class Turn implements GradientCollector {
        private final GradientCollector delegate;

        Turn(GradientCollector delegate) {
            this.delegate = delegate;
        }

        @Override
        public void backward(NDArray target) {
            delegate.backward(target);
        }

        @Override
        public void zeroGradients() {
            delegate.zeroGradients();
        }

        @Override
        public void close() {
            try {
                delegate.close();
                inferenceOnly();
            } finally {
                TURN.unlock();
            }
        }
    }
}
