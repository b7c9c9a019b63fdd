package dev.rlhf.labeling;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** At most {@code attempts} sign-in attempts per client address in each fixed window. */
final class SignInRateLimiter {

    private record Window(Instant start, int used) {
    }

    private final Map<String, Window> windows = new ConcurrentHashMap<>();
    private final int attempts;
    private final Duration window;
    private final Clock clock;

    SignInRateLimiter(int attempts, Duration window, Clock clock) {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be at least 1 but was " + attempts);
        }
        this.attempts = attempts;
        this.window = window;
        this.clock = clock;
    }

    /**
     * Counts one attempt from {@code client}.
     *
     * @return empty when the attempt may go ahead; otherwise how long until the client's window ends
     */
    Optional<Duration> tryAcquire(String client) {
        Instant now = clock.instant();
        if (windows.size() > 10_000) {
            windows.values().removeIf(w -> !w.start().plus(window).isAfter(now));
        }
        Window w = windows.compute(client, (k, old) -> old == null || !old.start().plus(window).isAfter(now)
                ? new Window(now, 1) : new Window(old.start(), old.used() + 1));
        if (w.used() <= attempts) {
            return Optional.empty();
        }
        Duration left = Duration.between(now, w.start().plus(window));
        return Optional.of(left.isNegative() || left.isZero() ? Duration.ofSeconds(1) : left);
    }
}
