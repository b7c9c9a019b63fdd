package dev.rlhf.labeling;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * Lets a request through to its route or refuses it: a state change must come from the UI's own origin (when the
 * browser says) and carry the session's CSRF token; signed-in routes need a live session, admin routes an admin's.
 */
final class RequestGuard {
    static final String CSRF_HEADER = "X-CSRF-Token";

    private final SessionStore sessions;
    private final boolean secure;

    /** @param secure whether the UI is served over TLS (its origin is then https) */
    RequestGuard(SessionStore sessions, boolean secure) {
        this.sessions = sessions;
        this.secure = secure;
    }

    /**
     * The caller's session for a route that needs one, null for one that does not.
     *
     * @throws ApiError 403 for another origin, a missing or wrong CSRF token or a non-admin on an admin route;
     *     401 without a live session
     */
    SessionStore.Session admit(HttpRequest request, Route route) {
        if (route.changesState()) {
            checkOrigin(request);
        }
        if (route.access() != Route.Access.ANNOTATOR && route.access() != Route.Access.ADMIN) {
            return null;
        }
        SessionStore.Session session = SessionCookie.read(request).flatMap(sessions::touch)
                .orElseThrow(() -> new ApiError(401, "not signed in (or the session expired)"));
        if (route.changesState()
                && !session.csrfMatches(request.getHeader(CSRF_HEADER).map(HttpHeader::value).orElse(null))) {
            throw new ApiError(403, "missing or wrong " + CSRF_HEADER + " header", CSRF_HEADER);
        }
        if (route.access() == Route.Access.ADMIN && !session.admin()) {
            throw new ApiError(403, "this needs an admin token");
        }
        return session;
    }

    /** A state-changing request from a page of another origin is refused (with SameSite=Strict and the CSRF token). */
    private void checkOrigin(HttpRequest request) {
        Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
        if (origin.isEmpty()) {
            return;
        }
        String host = request.getHeader("Host").map(HttpHeader::value).orElse("");
        String expected = (secure ? "https://" : "http://") + host;
        if (!origin.get().equalsIgnoreCase(expected)) {
            throw new ApiError(403, "request from another origin refused", "Origin");
        }
    }
}
