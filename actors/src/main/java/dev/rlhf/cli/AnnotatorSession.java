package dev.rlhf.cli;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * One annotator signed in to the labeling UI's JSON API, as the annotator page uses it: the session cookie and the
 * CSRF token from sign-in go with every later request. Safe for one thread at a time.
 */
final class AnnotatorSession {
    private static final String COOKIE = "rlhf_session";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);

    /** An answer outside 2xx; {@code status} and the body's {@code error} say why. */
    static final class RefusedException extends IOException {
        final int status;

        RefusedException(String request, int status, String body) {
            super(request + " answered " + status + ": " + body);
            this.status = status;
        }
    }

    private final HttpClient http;
    private final URI ui;
    private final String cookie;
    private final String csrfToken;
    private final String annotator;
    private final boolean admin;

    private AnnotatorSession(HttpClient http, URI ui, String cookie, String csrfToken, String annotator,
            boolean admin) {
        this.http = http;
        this.ui = ui;
        this.cookie = cookie;
        this.csrfToken = csrfToken;
        this.annotator = annotator;
        this.admin = admin;
    }

    /**
     * Signs in with {@code POST /api/session}.
     *
     * @param ui the UI's address, {@code http://HOST:PORT/}
     * @throws RefusedException if the UI refuses the token (401) or the attempt (429)
     * @throws IOException if the request fails
     */
    static AnnotatorSession signIn(HttpClient http, URI ui, String token) throws IOException, InterruptedException {
        JsonObject body = new JsonObject();
        body.addProperty("token", token);
        HttpResponse<String> response = http.send(post(request(ui.resolve("api/session")), body),
                HttpResponse.BodyHandlers.ofString());
        JsonObject session = accepted("POST /api/session", response);
        String cookie = response.headers().allValues("set-cookie").stream()
                .map(header -> header.split(";", 2)[0].strip())
                .filter(pair -> pair.startsWith(COOKIE + "="))
                .findFirst()
                .orElseThrow(() -> new IOException("POST /api/session set no " + COOKIE + " cookie"));
        return new AnnotatorSession(http, ui, cookie, session.get("csrfToken").getAsString(),
                session.get("annotator").getAsString(), session.get("admin").getAsBoolean());
    }

    /** The annotator the store signed in. */
    String annotator() {
        return annotator;
    }

    boolean admin() {
        return admin;
    }

    /**
     * {@code GET /api/task}: the id of the task the store hands this annotator, empty when the queue is empty.
     *
     * @throws IOException if the request fails or is refused
     */
    Optional<String> nextTask() throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(signedIn(ui.resolve("api/task")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        JsonElement task = accepted("GET /api/task", response).get("task");
        return task == null || task.isJsonNull() ? Optional.empty()
                : Optional.of(task.getAsJsonObject().get("id").getAsString());
    }

    /**
     * {@code POST /api/judgments}: judges a task with a screen choice ({@code a}, {@code b}, {@code tie},
     * {@code both_bad} or {@code skip}); returns the judgment's sequence number in the store's log once it is durable.
     *
     * @throws RefusedException if the UI answers outside 2xx
     * @throws IOException if the request fails (the judgment may or may not be stored)
     */
    long submit(String judgmentId, String taskId, String choice) throws IOException, InterruptedException {
        JsonObject body = new JsonObject();
        body.addProperty("judgmentId", judgmentId);
        body.addProperty("taskId", taskId);
        body.addProperty("choice", choice);
        HttpResponse<String> response = http.send(
                post(signedIn(ui.resolve("api/judgments")).header("X-CSRF-Token", csrfToken), body),
                HttpResponse.BodyHandlers.ofString());
        return accepted("POST /api/judgments", response).get("sequence").getAsLong();
    }

    private HttpRequest.Builder signedIn(URI uri) {
        return request(uri).header("Cookie", cookie);
    }

    private static HttpRequest.Builder request(URI uri) {
        return HttpRequest.newBuilder(uri).timeout(REQUEST_TIMEOUT).header("Accept", "application/json");
    }

    private static HttpRequest post(HttpRequest.Builder request, JsonObject body) {
        return request.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    }

    private static JsonObject accepted(String request, HttpResponse<String> response) throws RefusedException {
        if (response.statusCode() / 100 != 2) {
            throw new RefusedException(request, response.statusCode(), response.body());
        }
        return JsonParser.parseString(response.body()).getAsJsonObject();
    }
}
