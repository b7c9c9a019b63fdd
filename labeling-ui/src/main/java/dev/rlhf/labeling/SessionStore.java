package dev.rlhf.labeling;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Signed-in browsers, in memory: a random session id (the cookie) maps to the annotator's bearer token, which
 * never reaches the page again. A session unused for the idle timeout is forgotten.
 */
final class SessionStore {

    /**
     * One signed-in browser.
     *
     * @param id the cookie value
     * @param token the annotator's bearer token, attached to every store call
     * @param csrfToken what state-changing requests must send in the X-CSRF-Token header
     * @param annotator the token owner's name (empty for the server's own token)
     * @param admin whether the token may use the admin calls
     */
    record Session(String id, String token, String csrfToken, String annotator, boolean admin) {
        /** Whether {@code presented} is this session's CSRF token, compared in constant time. */
        boolean csrfMatches(String presented) {
            return presented != null && MessageDigest.isEqual(presented.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                    csrfToken.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private record Entry(Session session, Instant lastUsed) {
    }

    private final Map<String, Entry> sessions = new ConcurrentHashMap<>();
    private final Duration idleTimeout;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    SessionStore(Duration idleTimeout, Clock clock) {
        this.idleTimeout = idleTimeout;
        this.clock = clock;
    }

    /** A new session for a token the store vouched for. */
    Session create(String token, String annotator, boolean admin) {
        expire();
        Session s = new Session(randomId(), token, randomId(), annotator, admin);
        sessions.put(s.id(), new Entry(s, clock.instant()));
        return s;
    }

    /** The live session with this id, its idle time restarted; empty when unknown or idle too long. */
    Optional<Session> touch(String id) {
        if (id == null) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        Entry e = sessions.computeIfPresent(id, (k, old) -> expired(old, now) ? null : new Entry(old.session(), now));
        return e == null ? Optional.empty() : Optional.of(e.session());
    }

    /** Forgets a session (sign out, or the store no longer knows its token). */
    void remove(String id) {
        if (id != null) {
            sessions.remove(id);
        }
    }

    /** Sessions held now (expired ones dropped first). */
    int size() {
        expire();
        return sessions.size();
    }

    private void expire() {
        Instant now = clock.instant();
        sessions.values().removeIf(e -> expired(e, now));
    }

    private boolean expired(Entry e, Instant now) {
        return !e.lastUsed().plus(idleTimeout).isAfter(now);
    }

    private String randomId() {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
