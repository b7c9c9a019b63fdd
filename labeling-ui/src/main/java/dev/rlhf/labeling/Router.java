package dev.rlhf.labeling;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Matcher;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.Materializer;

/**
 * Matches a request's method and path to a route, in the order the routes were added, lets the guard admit it and
 * hands it to the route's handler (with its body, for POST). No route for the path answers 404; a route for the path
 * but not the method 405 with {@code Allow}. HEAD is answered as GET.
 */
final class Router {
    private final List<Route> routes = new ArrayList<>();
    private final RequestGuard guard;
    private final RequestBodyReader bodies;
    private final Materializer materializer;

    Router(RequestGuard guard, RequestBodyReader bodies, Materializer materializer) {
        this.guard = guard;
        this.bodies = bodies;
        this.materializer = materializer;
    }

    Router add(String method, String pathRegex, Route.Access access, Route.Handler handler) {
        routes.add(new Route(method, pathRegex, access, handler));
        return this;
    }

    /** The route's answer; throws (or fails) with the ApiError of a refusal. */
    CompletionStage<HttpResponse> dispatch(HttpRequest request) throws Exception {
        String path = request.getUri().path();
        String method = request.method().value();
        List<String> allowed = new ArrayList<>();
        for (Route r : routes) {
            Matcher m = r.path().matcher(path);
            if (!m.matches()) {
                continue;
            }
            if (!r.method().equals(method) && !(method.equals("HEAD") && r.method().equals("GET"))) {
                allowed.add(r.method());
                continue;
            }
            return call(request, r, m);
        }
        request.discardEntityBytes(materializer);
        if (!allowed.isEmpty()) {
            return Responses.done(Responses.error(new ApiError(405,
                    method + " is not allowed here; use " + String.join(" or ", allowed), null))
                    .addHeader(RawHeader.create("Allow", String.join(", ", allowed))));
        }
        throw new ApiError(404, "no such page or route: " + path);
    }

    private CompletionStage<HttpResponse> call(HttpRequest request, Route r, Matcher m) throws Exception {
        SessionStore.Session session = guard.admit(request, r);
        if (r.method().equals("POST")) {
            return bodies.read(request).thenCompose(body -> {
                try {
                    return r.handler().handle(new ApiCall(request, m, session, body));
                } catch (Exception e) {
                    return CompletableFuture.failedFuture(e);
                }
            });
        }
        request.discardEntityBytes(materializer);
        return r.handler().handle(new ApiCall(request, m, session, ""));
    }
}
