package dev.rlhf.labeling;

import com.google.gson.JsonObject;
import dev.rlhf.proto.v1.Identity;
import dev.rlhf.proto.v1.WhoAmIRequest;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.RemoteAddress;

/** Signing in (rate-limited per client address), asking who is signed in, and signing out. */
final class SessionRoutes {
    private final LabelingUiSettings settings;
    private final SessionStore sessions;
    private final SignInRateLimiter signInLimiter;
    private final SessionCookie cookie;
    private final StoreGateway store;

    SessionRoutes(LabelingUiSettings settings, SessionStore sessions, SignInRateLimiter signInLimiter,
            StoreGateway store) {
        this.settings = settings;
        this.sessions = sessions;
        this.signInLimiter = signInLimiter;
        this.cookie = new SessionCookie(settings.secureCookie());
        this.store = store;
    }

    void addTo(Router router) {
        router.add("POST", "/api/session", Route.Access.SIGN_IN, this::signIn)
                .add("GET", "/api/session", Route.Access.PUBLIC, this::whoAmI)
                .add("DELETE", "/api/session", Route.Access.ANNOTATOR, this::signOut);
    }

    private CompletionStage<HttpResponse> signIn(ApiCall call) {
        Optional<Duration> wait = signInLimiter.tryAcquire(clientAddress(call.request()));
        if (wait.isPresent()) {
            throw new ApiError(429, "too many sign-in attempts; try again in " + Responses.seconds(wait.get())
                    + " s", null, wait.get());
        }
        String token = Requests.signInToken(Json.parseObject(call.body()));
        return store.client(token).<Identity>call((s, o) -> s.whoAmI(WhoAmIRequest.getDefaultInstance(), o))
                .thenApply(identity -> {
                    SessionStore.Session session = sessions.create(token, identity.getAnnotatorId(),
                            identity.getAdmin());
                    return Responses.json(200, sessionJson(session)).addHeader(cookie.set(session.id()));
                })
                .exceptionally(t -> {
                    ApiError e = GrpcErrors.fromThrowable(t);
                    if (e != null && e.status() == 401) {
                        throw new ApiError(401, "unknown or revoked token", "token");
                    }
                    throw StoreGateway.asCompletion(t);
                });
    }

    /** The session of a reload: {@code signedIn} false (not a 401) when there is none, so the page just asks. */
    private CompletionStage<HttpResponse> whoAmI(ApiCall call) {
        Optional<SessionStore.Session> s = SessionCookie.read(call.request()).flatMap(sessions::touch);
        if (s.isEmpty()) {
            JsonObject o = new JsonObject();
            o.addProperty("signedIn", false);
            return Responses.done(Responses.json(200, o));
        }
        return Responses.done(Responses.json(200, sessionJson(s.get())));
    }

    private CompletionStage<HttpResponse> signOut(ApiCall call) {
        sessions.remove(call.session().id());
        return Responses.done(Responses.json(200, new JsonObject()).addHeader(cookie.cleared()));
    }

    private JsonObject sessionJson(SessionStore.Session s) {
        JsonObject o = new JsonObject();
        o.addProperty("signedIn", true);
        o.addProperty("annotator", s.annotator());
        o.addProperty("admin", s.admin());
        o.addProperty("csrfToken", s.csrfToken());
        o.addProperty("pollIntervalMs", settings.newTaskPollInterval().toMillis());
        o.addProperty("maxRationaleBytes", settings.maxRationaleBytes());
        return o;
    }

    private static String clientAddress(HttpRequest request) {
        return request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress)
                .map(InetAddress::getHostAddress).orElse("unknown");
    }
}
