package dev.rlhf.labeling;

import java.util.Optional;
import java.util.regex.Matcher;
import org.apache.pekko.http.javadsl.model.HttpRequest;

/**
 * One request on its way through a route.
 *
 * @param request the request
 * @param path the route's path pattern matched against the request's path (its groups are path parameters)
 * @param session the caller's session; null on public routes
 * @param body the request body for POST, else empty
 */
record ApiCall(HttpRequest request, Matcher path, SessionStore.Session session, String body) {

    Optional<String> query(String name) {
        return request.getUri().query().get(name);
    }
}
