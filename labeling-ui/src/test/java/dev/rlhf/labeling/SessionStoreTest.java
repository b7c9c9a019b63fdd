package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SessionStoreTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final SessionStore store = new SessionStore(Duration.ofMinutes(30), clock);

    @Test
    void aSessionUnusedForTheIdleTimeoutIsForgotten() {
        SessionStore.Session s = store.create("tok", "ann", false);
        clock.advance(Duration.ofMinutes(29));
        assertTrue(store.touch(s.id()).isPresent(), "29 minutes idle is within the 30-minute timeout");
        clock.advance(Duration.ofMinutes(29));
        assertTrue(store.touch(s.id()).isPresent(), "each use restarts the idle time");
        clock.advance(Duration.ofMinutes(30));
        assertFalse(store.touch(s.id()).isPresent(), "30 minutes idle ends the session");
        assertEquals(0, store.size());
    }

    @Test
    void sessionsHaveDistinctUnguessableIdsAndCsrfTokens() {
        SessionStore.Session a = store.create("tok", "ann", false);
        SessionStore.Session b = store.create("tok", "ann", false);
        assertNotEquals(a.id(), b.id());
        assertNotEquals(a.csrfToken(), a.id());
        assertTrue(a.id().length() >= 43, "256 random bits, base64url: " + a.id());
        assertTrue(a.csrfMatches(a.csrfToken()));
        assertFalse(a.csrfMatches(b.csrfToken()));
        assertFalse(a.csrfMatches(null));
    }

    @Test
    void removedAndUnknownSessionsAreNotFound() {
        SessionStore.Session s = store.create("tok", "ann", true);
        store.remove(s.id());
        assertFalse(store.touch(s.id()).isPresent());
        assertFalse(store.touch("nope").isPresent());
        assertFalse(store.touch(null).isPresent());
    }
}
