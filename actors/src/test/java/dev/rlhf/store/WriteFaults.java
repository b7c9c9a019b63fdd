package dev.rlhf.store;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The write step of a store's writer thread under a test's control: it can hold writes until released, or throw an
 * {@link Error} from the next one instead of writing. Writes pass straight through until a test arms it. Public so
 * that tests of other packages can open a store with it.
 */
public final class WriteFaults {

    private record Hold(CountDownLatch reached, CountDownLatch released) {}

    private volatile Hold hold;
    private volatile Error nextFault;

    /** Opens a store at {@code settings.path()} whose writer writes through this. */
    public PreferenceStore open(PreferenceStoreSettings settings) {
        return PreferenceStore.open(settings, Clock.systemUTC(), SchemaMigrations.standard(), this::around);
    }

    /** From now on each write waits, before writing, until {@link #release()}. */
    public void hold() {
        hold = new Hold(new CountDownLatch(1), new CountDownLatch(1));
    }

    /**
     * Waits until the writer is held by {@link #hold()}.
     *
     * @throws AssertionError if it is not within {@code timeout}
     */
    public void awaitHeld(Duration timeout) throws InterruptedException {
        if (!hold.reached().await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the store's writer reached no write within " + timeout);
        }
    }

    /** Lets the held write, and those after it, through; nothing to do if nothing was held. */
    public void release() {
        Hold current = hold;
        if (current != null) {
            current.released().countDown();
        }
    }

    /** The next write throws {@code fault} instead of writing. */
    public void failNextWith(Error fault) {
        nextFault = fault;
    }

    private GroupWrite around(GroupWrite synced) {
        return batch -> {
            Hold current = hold;
            if (current != null) {
                current.reached().countDown();
                awaitUninterruptibly(current.released());
            }
            Error fault = nextFault;
            if (fault != null) {
                nextFault = null;
                throw fault;
            }
            synced.write(batch);
        };
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean interrupted = false;
        while (true) {
            try {
                latch.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
