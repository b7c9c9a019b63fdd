package dev.rlhf.policy.model;

/**
 * Runs the garbage collector over and over on a background thread while open, so that a tensor whose memory
 * belongs to an unreachable Java buffer is freed (and the memory reused) between a forward and a backward pass
 * instead of once in a long while. Training must give the same numbers with it as without.
 */
public final class GarbageCollectorPressure implements AutoCloseable {
    private final Thread collector;
    private volatile boolean running = true;

    private GarbageCollectorPressure() {
        collector = new Thread(this::collectUntilClosed, "gc-pressure");
        collector.setDaemon(true);
        collector.start();
    }

    public static GarbageCollectorPressure start() {
        return new GarbageCollectorPressure();
    }

    private void collectUntilClosed() {
        while (running) {
            System.gc();
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        collector.join();
    }
}
