package dev.rlhf.labeling;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** The shapes of the UI's answers: JSON bodies, JSON errors, and the security headers every answer carries. */
final class Responses {
    private static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";
    private static final List<HttpHeader> SECURITY_HEADERS = List.of(
            RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            RawHeader.create("X-Content-Type-Options", "nosniff"),
            RawHeader.create("Referrer-Policy", "no-referrer"),
            RawHeader.create("X-Frame-Options", "DENY"),
            RawHeader.create("Cross-Origin-Opener-Policy", "same-origin"));
    static final HttpHeader NO_STORE = RawHeader.create("Cache-Control", "no-store");

    private Responses() {
    }

    /** A JSON answer (a String body is sent as it is), never cached. */
    static HttpResponse json(int status, Object body) {
        String text = body instanceof String str ? str : Json.GSON.toJson(body);
        return HttpResponse.create().withStatus(status)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, text.getBytes(StandardCharsets.UTF_8)))
                .addHeader(NO_STORE);
    }

    /** The {@code {"error", "field"}} answer of a refusal, with Retry-After when it has one. */
    static HttpResponse error(ApiError e) {
        HttpResponse r = json(e.status(), Json.error(e.getMessage(), e.field().orElse(null)));
        if (e.retryAfter().isPresent()) {
            r = r.addHeader(RawHeader.create("Retry-After", Long.toString(seconds(e.retryAfter().get()))));
        }
        return r;
    }

    /** Whole seconds, rounded up, at least one. */
    static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }

    static HttpResponse secured(HttpResponse r) {
        return r.addHeaders(SECURITY_HEADERS);
    }

    static CompletionStage<HttpResponse> done(HttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }
}
