package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class SignInRateLimiterTest {

    @Test
    void theAttemptAfterTheLimitWaitsForTheWindowToEnd() {
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        SignInRateLimiter limiter = new SignInRateLimiter(3, Duration.ofMinutes(1), clock);
        for (int i = 0; i < 3; i++) {
            assertTrue(limiter.tryAcquire("10.0.0.1").isEmpty(), "attempt " + (i + 1) + " of 3 is allowed");
        }
        clock.advance(Duration.ofSeconds(20));
        Optional<Duration> wait = limiter.tryAcquire("10.0.0.1");
        assertEquals(Optional.of(Duration.ofSeconds(40)), wait, "the fourth attempt waits for the window's end");
        assertTrue(limiter.tryAcquire("10.0.0.2").isEmpty(), "another address has its own window");
        clock.advance(Duration.ofSeconds(40));
        assertTrue(limiter.tryAcquire("10.0.0.1").isEmpty(), "a new window allows attempts again");
    }
}
