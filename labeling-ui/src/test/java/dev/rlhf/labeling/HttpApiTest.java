package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.JudgmentSubmission;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP adapter over a fake PreferenceService: routes, security, error mapping and side translation. */
class HttpApiTest {

    @TempDir
    static Path runDir;

    private static FakePreferenceService fake;
    private static Server grpc;
    private static ManagedChannel channel;
    private static LabelingUiServer ui;
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** A signed-in client: its cookie and CSRF token. */
    private record Signed(String cookie, String csrf) {
    }

    @BeforeAll
    static void start() throws Exception {
        fake = new FakePreferenceService();
        String name = "labeling-ui-" + UUID.randomUUID();
        grpc = InProcessServerBuilder.forName(name).directExecutor()
                .addService(ServerInterceptors.intercept(fake, FakePreferenceService.tokenReader())).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        LabelingUiSettings settings = LabelingUiSettings.fromConfig(ConfigFactory.parseString(
                "rlhf.labeling-ui { port = 0, sign-in-attempts = 1000, max-rationale-bytes = 50, "
                        + "max-request-bytes = 2KiB, metrics-poll-interval = 100ms }")
                .withFallback(ConfigFactory.defaultReference()));
        Files.writeString(runDir.resolve("metrics.jsonl"), "{\"iteration\":1,\"reward/rm_mean\":0.5}\n");
        ui = LabelingUiServer.start(settings, channel, Optional.of(runDir));
    }

    @AfterAll
    static void stop() throws Exception {
        ui.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @BeforeEach
    void reset() {
        fake.submissions.clear();
        fake.failNext = null;
    }

    private static HttpResponse<String> send(String method, String path, String body, Signed s, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(ui.url()).resolve(path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (s != null) {
            b.header("Cookie", HttpApi.SESSION_COOKIE + "=" + s.cookie());
            b.header(HttpApi.CSRF_HEADER, s.csrf());
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    private static Signed signIn(String token) throws Exception {
        HttpResponse<String> r = send("POST", "/api/session", "{\"token\":\"" + token + "\"}", null);
        assertEquals(200, r.statusCode(), r.body());
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
        return new Signed(cookie, json(r).get("csrfToken").getAsString());
    }

    private static void assertError(HttpResponse<String> r, int status, String field) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"), r.headers().toString());
        JsonObject body = json(r);
        assertTrue(body.has("error"), r.body());
        if (field != null) {
            assertEquals(field, body.get("field").getAsString(), r.body());
        }
    }

    @Test
    void pagesComeWithStrictSecurityHeadersAndTheirContentTypes() throws Exception {
        for (String[] page : new String[][] {{"/", "text/html"}, {"/admin", "text/html"},
                {"/assets/app.js", "application/javascript"}, {"/assets/style.css", "text/css"},
                {"/assets/icon.svg", "image/svg+xml"},
                {"/vendor/uplot/uPlot.esm.js", "application/javascript"}}) {
            HttpResponse<String> r = send("GET", page[0], null, null);
            assertEquals(200, r.statusCode(), page[0]);
            assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith(page[1]), page[0]);
            String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
            assertTrue(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'")
                    && !csp.contains("unsafe-inline"), csp);
            assertEquals("nosniff", r.headers().firstValue("X-Content-Type-Options").orElseThrow());
            assertEquals("no-referrer", r.headers().firstValue("Referrer-Policy").orElseThrow());
            assertTrue(r.headers().firstValue("Cache-Control").isPresent(), page[0]);
        }
        String html = send("GET", "/", null, null).body();
        assertFalse(html.contains("<script>") || html.contains("style="), "no inline script or style in the page");
    }

    @Test
    void unknownRoutesAndWrongMethodsAnswerJsonErrors() throws Exception {
        assertError(send("GET", "/nope", null, null), 404, null);
        assertError(send("GET", "/assets/../../etc/passwd", null, null), 404, null);
        HttpResponse<String> r = send("PUT", "/api/judgments", "{}", null);
        assertError(r, 405, null);
        assertEquals("POST", r.headers().firstValue("Allow").orElseThrow());
        assertError(send("GET", "/api/task", null, null), 401, null);
    }

    @Test
    void signInSetsAStrictHttpOnlyCookieAndAWrongTokenSeesNothing() throws Exception {
        HttpResponse<String> r = send("POST", "/api/session", "{\"token\":\"ann-token\"}", null);
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), cookie);
        assertFalse(r.body().contains("ann-token"), "the token never comes back to the page");
        assertEquals("ann", json(r).get("annotator").getAsString());

        assertError(send("POST", "/api/session", "{\"token\":\"wrong\"}", null), 401, "token");
        assertEquals(false, json(send("GET", "/api/session", null, null)).get("signedIn").getAsBoolean(),
                "a page asking whether it is signed in gets a plain no");
        assertEquals(true, json(send("GET", "/api/session", null, signIn("ann-token"))).get("signedIn").getAsBoolean());
        assertError(send("GET", "/api/task", null, new Signed("made-up", "x")), 401, null);
    }

    @Test
    void stateChangesNeedTheCsrfTokenAndTheSameOrigin() throws Exception {
        Signed s = signIn("ann-token");
        String body = "{\"judgmentId\":\"" + UUID.randomUUID() + "\",\"taskId\":\"task-1\",\"choice\":\"a\"}";
        assertError(send("POST", "/api/judgments", body, new Signed(s.cookie(), "forged")), 403, HttpApi.CSRF_HEADER);
        assertError(send("POST", "/api/judgments", body, s, "Origin", "https://evil.example"), 403, "Origin");
        assertEquals(200, send("POST", "/api/judgments", body, s, "Origin", ui.url().replaceAll("/$", "")).statusCode());
        assertEquals(1, fake.submissions.size());
    }

    @Test
    void theStoreHearsTheTrueCandidateIdentityWithTheAnnotatorsToken() throws Exception {
        Signed s = signIn("ann-token");
        ScreenSides sides = ScreenSides.of("ann", "task-1");
        JsonObject task = json(send("GET", "/api/task", null, s)).getAsJsonObject("task");
        assertEquals("candidate " + (sides.candidateShownAsA() == 0 ? "zero" : "one"), task.get("a").getAsString());
        assertEquals("candidate " + (sides.candidateShownAsB() == 0 ? "zero" : "one"), task.get("b").getAsString());

        String id = UUID.randomUUID().toString();
        HttpResponse<String> r = send("POST", "/api/judgments", "{\"judgmentId\":\"" + id
                + "\",\"taskId\":\"task-1\",\"choice\":\"a\",\"strength\":3,\"rationale\":\"clearer\"}", s);
        assertEquals(200, r.statusCode(), r.body());
        FakePreferenceService.Received got = fake.submissions.get(0);
        assertEquals("ann-token", got.token());
        JudgmentSubmission sub = got.submission();
        assertEquals(0, sub.getCandidateA());
        assertEquals(1, sub.getCandidateB());
        Choice expected = sides.candidateShownAsA() == 0 ? Choice.CHOICE_A : Choice.CHOICE_B;
        assertEquals(expected, sub.getChoice(), "A on screen was candidate " + sides.candidateShownAsA());
        assertEquals(id, sub.getJudgmentId());
        assertEquals(3, sub.getStrength());
        assertEquals("clearer", sub.getRationale());
        assertEquals("", sub.getAnnotatorId(), "the token says who");
    }

    @Test
    void badBodiesAreRefusedBeforeTheStoreHearsOfThem() throws Exception {
        Signed s = signIn("ann-token");
        String id = UUID.randomUUID().toString();
        assertError(send("POST", "/api/judgments", "{not json", s), 400, null);
        assertError(send("POST", "/api/judgments", "{\"judgmentId\":\"" + id + "\",\"taskId\":\"task-1\",\"choice\":\"c\"}", s), 400, "choice");
        assertError(send("POST", "/api/judgments", "{\"judgmentId\":\"" + id
                + "\",\"taskId\":\"task-1\",\"choice\":\"a\",\"rationale\":\"" + "x".repeat(51) + "\"}", s), 400, "rationale");
        assertError(send("POST", "/api/judgments", "{\"pad\":\"" + "x".repeat(4096) + "\"}", s), 413, null);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(ui.url() + "api/judgments"))
                .header("Cookie", HttpApi.SESSION_COOKIE + "=" + s.cookie()).header(HttpApi.CSRF_HEADER, s.csrf())
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(r, 415, "Content-Type");
        assertError(send("GET", "/api/progress?since=yesterday", null, s), 400, "since");
        assertTrue(fake.submissions.isEmpty());
    }

    @Test
    void storeFailuresMapToHttpStatuses() throws Exception {
        Signed s = signIn("ann-token");
        String body = "{\"judgmentId\":\"" + UUID.randomUUID() + "\",\"taskId\":\"task-1\",\"choice\":\"b\"}";
        fake.failNext = Status.FAILED_PRECONDITION.withDescription("task_id: no such task");
        HttpResponse<String> r = send("POST", "/api/judgments", body, s);
        assertError(r, 409, null);
        assertTrue(r.body().contains("no such task"), r.body());
        fake.failNext = Status.UNAVAILABLE;
        r = send("POST", "/api/judgments", body, s);
        assertError(r, 503, null);
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
        fake.failNext = Status.NOT_FOUND.withDescription("not your judgment");
        assertError(send("DELETE", "/api/judgments/" + UUID.randomUUID(), null, s), 404, null);
    }

    @Test
    void progressCountsFromTheGivenStartOfDay() throws Exception {
        Signed s = signIn("ann-token");
        JsonObject p = json(send("GET", "/api/progress?since=2026-01-31T23:00:00Z", null, s));
        assertEquals(2, p.get("doneSince").getAsInt());
        assertEquals(7, p.get("tasksLeft").getAsInt());
    }

    @Test
    void adminRoutesNeedAnAdmin() throws Exception {
        Signed ann = signIn("ann-token");
        assertError(send("GET", "/api/admin/overview", null, ann), 403, null);
        assertError(send("POST", "/api/admin/annotators", "{\"name\":\"x\"}", ann), 403, null);
        Signed admin = signIn("admin-token");
        HttpResponse<String> r = send("POST", "/api/admin/annotators", "{\"name\":\"carol\",\"admin\":false}", admin);
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("new-token", json(r).get("token").getAsString());
    }

    @Test
    void exportStreamsTheStoresLinesAsADownload() throws Exception {
        Signed admin = signIn("admin-token");
        HttpResponse<String> r = send("GET", "/api/admin/export?format=trl", null, admin);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("{\"n\":1}\n{\"n\":2}\n", r.body());
        assertTrue(r.headers().firstValue("Content-Disposition").orElseThrow().contains("preferences-trl.jsonl"));
        assertError(send("GET", "/api/admin/export?format=csv", null, admin), 400, "format");
    }

    @Test
    void theDashboardStreamsTheRunsMetrics() throws Exception {
        Signed admin = signIn("admin-token");
        HttpRequest req = HttpRequest.newBuilder(URI.create(ui.url() + "api/admin/dashboard"))
                .header("Cookie", HttpApi.SESSION_COOKIE + "=" + admin.cookie()).build();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            Files.writeString(runDir.resolve("metrics.jsonl"), "{\"iteration\":2,\"reward/rm_mean\":0.6}\n",
                    java.nio.file.StandardOpenOption.APPEND);
            String line;
            while ((line = in.readLine()) != null) {
                lines.add(line);
                if (line.contains("\"iteration\":2")) {
                    break;
                }
            }
        }
        assertTrue(lines.contains("event: run"), lines.toString());
        assertTrue(lines.contains("data: {\"iteration\":1,\"reward/rm_mean\":0.5}"), lines.toString());
        assertTrue(lines.contains("data: {\"iteration\":2,\"reward/rm_mean\":0.6}"), "an appended line follows live: " + lines);
    }

    @Test
    void signInAttemptsAreRateLimitedPerAddress() throws Exception {
        LabelingUiSettings strict = LabelingUiSettings.fromConfig(ConfigFactory.parseString(
                "rlhf.labeling-ui { port = 0, sign-in-attempts = 2 }").withFallback(ConfigFactory.defaultReference()));
        try (LabelingUiServer limited = LabelingUiServer.start(strict, channel, Optional.empty())) {
            URI uri = URI.create(limited.url() + "api/session");
            int last = 0;
            String retryAfter = null;
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"wrong\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                last = r.statusCode();
                retryAfter = r.headers().firstValue("Retry-After").orElse(null);
            }
            assertEquals(429, last);
            assertTrue(retryAfter != null && Integer.parseInt(retryAfter) > 0, "Retry-After: " + retryAfter);
        }
    }
}
