package dev.rlhf.labeling;

import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** The session cookie: read from a request, set at sign-in, cleared at sign-out. */
final class SessionCookie {
    static final String NAME = "rlhf_session";

    private final boolean secure;

    /** @param secure whether the cookie is marked {@code Secure} (the UI is served over TLS) */
    SessionCookie(boolean secure) {
        this.secure = secure;
    }

    /** The session id the request's cookie carries, if any. */
    static Optional<String> read(HttpRequest request) {
        for (HttpHeader h : request.getHeaders()) {
            if (!h.lowercaseName().equals("cookie")) {
                continue;
            }
            for (String part : h.value().split(";")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).trim().equals(NAME)) {
                    return Optional.of(part.substring(eq + 1).trim());
                }
            }
        }
        return Optional.empty();
    }

    HttpHeader set(String sessionId) {
        return RawHeader.create("Set-Cookie", NAME + "=" + sessionId + "; Path=/; HttpOnly; SameSite=Strict"
                + (secure ? "; Secure" : ""));
    }

    HttpHeader cleared() {
        return RawHeader.create("Set-Cookie", NAME + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
                + (secure ? "; Secure" : ""));
    }
}
