package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.store.PreferenceFormat;
import dev.rlhf.store.PreferenceJsonl;
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
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The labeling UI's HTTP adapter over loopback against the real stack (a store in a temporary directory, a
 * PreferenceServer over it, the UI talking gRPC to that): routes, security headers, the session cookie, CSRF and
 * Origin, the 4xx and 503 JSON bodies, side translation, admin routes, export, the event stream and the sign-in rate
 * limit.
 */
class HttpApiTest {
    private static final String COOKIE = "rlhf_session";
    private static final String CSRF = "X-CSRF-Token";
    private static final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;
    private Path runDir;
    private LabelingStack stack;
    private String annToken;
    private String adminToken;

    /** A signed-in client: its cookie and CSRF token. */
    private record Signed(String cookie, String csrf) {
    }

    @BeforeEach
    void start() throws Exception {
        runDir = Files.createDirectories(dir.resolve("run"));
        Files.writeString(runDir.resolve("metrics.jsonl"), "{\"iteration\":1,\"reward/rm_mean\":0.5}\n");
        stack = new LabelingStack(dir, 2, Optional.of(runDir),
                "sign-in-attempts = 1000, max-rationale-bytes = 50, max-request-bytes = 2KiB, metrics-poll-interval = 100ms");
        annToken = stack.annotator("ann", false);
        adminToken = stack.annotator("boss", true);
        stack.task("task-1", "the prompt", "candidate zero", "candidate one", 2);
    }

    @AfterEach
    void stop() throws Exception {
        stack.close();
    }

    private HttpResponse<String> send(String method, String path, String body, Signed s, String... headers)
            throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stack.ui.url()).resolve(path))
                .timeout(Duration.ofSeconds(10))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        if (s != null) {
            b.header("Cookie", COOKIE + "=" + s.cookie());
            b.header(CSRF, s.csrf());
        }
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject json(HttpResponse<String> r) {
        return JsonParser.parseString(r.body()).getAsJsonObject();
    }

    private Signed signIn(String token) throws Exception {
        HttpResponse<String> r = send("POST", "/api/session", "{\"token\":\"" + token + "\"}", null);
        assertEquals(200, r.statusCode(), r.body());
        String setCookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        String cookie = setCookie.substring(setCookie.indexOf('=') + 1, setCookie.indexOf(';'));
        return new Signed(cookie, json(r).get("csrfToken").getAsString());
    }

    private static String judgment(String id, String taskId, String choice) {
        return "{\"judgmentId\":\"" + id + "\",\"taskId\":\"" + taskId + "\",\"choice\":\"" + choice + "\"}";
    }

    private static void assertError(HttpResponse<String> r, int status, String field) {
        assertEquals(status, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/json"),
                r.headers().toString());
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
            assertEquals("DENY", r.headers().firstValue("X-Frame-Options").orElseThrow());
            assertTrue(r.headers().firstValue("Cache-Control").isPresent(), page[0]);
        }
        assertEquals("public, max-age=31536000, immutable", send("GET", "/vendor/uplot/uPlot.min.css", null, null)
                .headers().firstValue("Cache-Control").orElseThrow(), "the WebJar's versioned file is cached long");
        assertEquals("no-cache", send("GET", "/assets/app.js", null, null).headers().firstValue("Cache-Control")
                .orElseThrow(), "the page's own scripts are revalidated");
        String html = send("GET", "/", null, null).body();
        assertFalse(html.contains("<script>") || html.contains("style="), "no inline script or style in the page");
    }

    @Test
    void unknownRoutesAndWrongMethodsAnswerJsonErrors() throws Exception {
        assertError(send("GET", "/nope", null, null), 404, null);
        assertError(send("GET", "/assets/../../etc/passwd", null, null), 404, null);
        assertError(send("GET", "/assets/missing.js", null, null), 404, null);
        HttpResponse<String> r = send("PUT", "/api/judgments", "{}", null);
        assertError(r, 405, null);
        assertEquals("POST", r.headers().firstValue("Allow").orElseThrow());
        r = send("PUT", "/api/session", "{}", null);
        assertError(r, 405, null);
        assertEquals("POST, GET, DELETE", r.headers().firstValue("Allow").orElseThrow());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElseThrow());
        assertTrue(r.headers().firstValue("Content-Security-Policy").isPresent(), "errors are secured too");
        assertError(send("GET", "/api/task", null, null), 401, null);
    }

    @Test
    void signInSetsAStrictHttpOnlyCookieAndAWrongTokenSeesNothing() throws Exception {
        HttpResponse<String> r = send("POST", "/api/session", "{\"token\":\"" + annToken + "\"}", null);
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertTrue(cookie.startsWith(COOKIE + "=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict")
                && cookie.contains("Path=/") && !cookie.contains("Secure"), cookie);
        assertFalse(r.body().contains(annToken), "the token never comes back to the page");
        JsonObject session = json(r);
        assertEquals("ann", session.get("annotator").getAsString());
        assertFalse(session.get("admin").getAsBoolean());
        assertEquals(50, session.get("maxRationaleBytes").getAsInt());
        assertEquals(500, session.get("pollIntervalMs").getAsInt());

        assertError(send("POST", "/api/session", "{\"token\":\"wrong\"}", null), 401, "token");
        assertEquals(false, json(send("GET", "/api/session", null, null)).get("signedIn").getAsBoolean(),
                "a page asking whether it is signed in gets a plain no");
        Signed s = signIn(annToken);
        assertEquals(true, json(send("GET", "/api/session", null, s)).get("signedIn").getAsBoolean());
        assertError(send("GET", "/api/task", null, new Signed("made-up", "x")), 401, null);

        r = send("DELETE", "/api/session", null, s);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Set-Cookie").orElseThrow().contains("Max-Age=0"));
        assertError(send("GET", "/api/task", null, s), 401, null);
    }

    @Test
    void stateChangesNeedTheCsrfTokenAndTheSameOrigin() throws Exception {
        Signed s = signIn(annToken);
        String body = judgment(UUID.randomUUID().toString(), "task-1", "a");
        assertError(send("POST", "/api/judgments", body, new Signed(s.cookie(), "forged")), 403, CSRF);
        assertError(send("POST", "/api/judgments", body, s, "Origin", "https://evil.example"), 403, "Origin");
        assertEquals(List.of(), stack.allJudgments("ann"), "a refused request never reaches the store");
        HttpResponse<String> r = send("POST", "/api/judgments", body, s, "Origin",
                stack.ui.url().replaceAll("/$", ""));
        assertEquals(200, r.statusCode(), r.body());
        assertEquals(1, stack.allJudgments("ann").size());
    }

    @Test
    void theStoreReceivesTheTrueCandidatePairAsTheSignedInAnnotator() throws Exception {
        Signed s = signIn(annToken);
        JsonObject task = json(send("GET", "/api/task", null, s)).getAsJsonObject("task");
        assertEquals("task-1", task.get("id").getAsString());
        assertEquals("the prompt", task.get("prompt").getAsString());
        boolean zeroShownAsA = task.get("a").getAsString().equals("candidate zero");
        assertEquals(zeroShownAsA ? "candidate one" : "candidate zero", task.get("b").getAsString());

        String id = UUID.randomUUID().toString();
        HttpResponse<String> r = send("POST", "/api/judgments", "{\"judgmentId\":\"" + id
                + "\",\"taskId\":\"task-1\",\"choice\":\"a\",\"strength\":3,\"rationale\":\"clearer\"}", s);
        assertEquals(200, r.statusCode(), r.body());
        List<Judgment> stored = stack.allJudgments("ann");
        assertEquals(1, stored.size(), "the store holds the judgment as ann's: " + stored);
        assertEquals(stored.get(0).getSequence(), json(r).get("sequence").getAsLong());
        assertEquals(id, json(r).get("judgmentId").getAsString());
        JudgmentSubmission sub = stored.get(0).getSubmission();
        assertEquals(0, sub.getCandidateA());
        assertEquals(1, sub.getCandidateB());
        assertEquals(zeroShownAsA ? Choice.CHOICE_A : Choice.CHOICE_B, sub.getChoice(),
                "A on screen was candidate " + (zeroShownAsA ? 0 : 1));
        assertEquals(id, sub.getJudgmentId());
        assertEquals(3, sub.getStrength());
        assertEquals("clearer", sub.getRationale());

        r = send("DELETE", "/api/judgments/" + id, null, s);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("task-1", json(r).get("taskId").getAsString());
        assertEquals(List.of(), stack.standingJudgments("ann"), "undo took the judgment back");
    }

    @Test
    void badBodiesAreRefusedBeforeTheStoreHearsOfThem() throws Exception {
        Signed s = signIn(annToken);
        String id = UUID.randomUUID().toString();
        assertError(send("POST", "/api/judgments", "{not json", s), 400, null);
        assertError(send("POST", "/api/judgments", judgment(id, "task-1", "c"), s), 400, "choice");
        assertError(send("POST", "/api/judgments", "{\"judgmentId\":\"" + id
                + "\",\"taskId\":\"task-1\",\"choice\":\"a\",\"rationale\":\"" + "x".repeat(51) + "\"}", s), 400,
                "rationale");
        assertError(send("POST", "/api/judgments", "{\"pad\":\"" + "x".repeat(4096) + "\"}", s), 413, null);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.ui.url() + "api/judgments"))
                .header("Cookie", COOKIE + "=" + s.cookie()).header(CSRF, s.csrf())
                .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(r, 415, "Content-Type");
        assertError(send("GET", "/api/progress?since=yesterday", null, s), 400, "since");
        assertEquals(List.of(), stack.allJudgments("ann"));
    }

    @Test
    void storeRefusalsMapToHttpStatuses() throws Exception {
        Signed s = signIn(annToken);
        String id = UUID.randomUUID().toString();
        HttpResponse<String> r = send("POST", "/api/judgments", judgment(id, "no-such-task", "b"), s);
        assertError(r, 409, null);
        assertTrue(r.body().contains("not stored"), r.body());

        assertEquals(200, send("POST", "/api/judgments", judgment(id, "task-1", "b"), s).statusCode());
        assertEquals(200, send("POST", "/api/judgments", judgment(id, "task-1", "b"), s).statusCode(),
                "the same judgment again is acknowledged once more");
        r = send("POST", "/api/judgments", judgment(id, "task-1", "a"), s);
        assertError(r, 409, null);
        assertTrue(r.body().contains("different content"), r.body());
        assertEquals(1, stack.allJudgments("ann").size());

        assertError(send("DELETE", "/api/judgments/" + UUID.randomUUID(), null, s), 404, null);
    }

    @Test
    void aStoreThatIsClosedAnswers503WithRetryAfter() throws Exception {
        Signed s = signIn(annToken);
        stack.store.close();
        HttpResponse<String> r = send("POST", "/api/judgments", judgment(UUID.randomUUID().toString(), "task-1", "a"),
                s);
        assertError(r, 503, null);
        assertTrue(Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow()) > 0, r.headers().toString());
        r = send("GET", "/api/task", null, s);
        assertError(r, 503, null);
        assertTrue(r.headers().firstValue("Retry-After").isPresent());
        assertEquals(true, json(send("GET", "/api/session", null, s)).get("signedIn").getAsBoolean(),
                "an unavailable store ends no session");
    }

    @Test
    void progressCountsFromTheGivenStartOfDay() throws Exception {
        stack.task("task-2", "another prompt", "x", "y", 2);
        Signed s = signIn(annToken);
        assertEquals(200, send("POST", "/api/judgments", judgment(UUID.randomUUID().toString(), "task-1", "tie"), s)
                .statusCode());
        JsonObject p = json(send("GET", "/api/progress?since=" + Instant.now().minusSeconds(3600), null, s));
        assertEquals(1, p.get("doneSince").getAsInt(), p.toString());
        assertEquals(1, p.get("doneTotal").getAsInt(), p.toString());
        assertEquals(1, p.get("tasksLeft").getAsInt(), p.toString());
        assertTrue(p.get("undoWindowMs").getAsLong() > 0, p.toString());
        p = json(send("GET", "/api/progress?since=" + Instant.now().plusSeconds(3600), null, s));
        assertEquals(0, p.get("doneSince").getAsInt(), p.toString());
        assertEquals(1, p.get("doneTotal").getAsInt(), p.toString());
    }

    @Test
    void adminRoutesNeedAnAdminAndTheirTokensWork() throws Exception {
        Signed ann = signIn(annToken);
        assertError(send("GET", "/api/admin/overview", null, ann), 403, null);
        assertError(send("POST", "/api/admin/annotators", "{\"name\":\"x\"}", ann), 403, null);
        assertError(send("GET", "/api/admin/export?format=trl", null, ann), 403, null);
        Signed admin = signIn(adminToken);
        HttpResponse<String> r = send("POST", "/api/admin/annotators", "{\"name\":\"carol\",\"admin\":false}", admin);
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("carol", json(r).get("name").getAsString());
        Signed carol = signIn(json(r).get("token").getAsString());
        assertEquals(200, send("GET", "/api/task", null, carol).statusCode());
        assertError(send("POST", "/api/admin/annotators", "{\"name\":\"carol\",\"admin\":false}", admin), 409, null);

        JsonObject overview = json(send("GET", "/api/admin/overview", null, admin));
        assertEquals(3, overview.getAsJsonArray("annotators").size(), overview.toString());
        assertEquals(1, overview.getAsJsonObject("queue").get("tasks").getAsInt(), overview.toString());

        r = send("DELETE", "/api/admin/annotators/carol", null, admin);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("carol", json(r).get("revoked").getAsString());
        assertError(send("GET", "/api/task", null, carol), 401, null);
        assertEquals(false, json(send("GET", "/api/session", null, carol)).get("signedIn").getAsBoolean(),
                "the store refusing a revoked token ends the session");
    }

    @Test
    void exportStreamsTheStoresLinesAsADownload() throws Exception {
        Signed ann = signIn(annToken);
        assertEquals(200, send("POST", "/api/judgments", judgment(UUID.randomUUID().toString(), "task-1", "a"), ann)
                .statusCode());
        Signed admin = signIn(adminToken);
        HttpResponse<String> r = send("GET", "/api/admin/export?format=trl", null, admin);
        assertEquals(200, r.statusCode(), r.body());
        StringBuilder expected = new StringBuilder();
        new PreferenceJsonl(stack.store).exportLines(PreferenceFormat.TRL).forEachRemaining(
                l -> expected.append(l).append('\n'));
        assertFalse(expected.isEmpty(), "the judgment is exported");
        assertEquals(expected.toString(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("application/x-ndjson"));
        assertEquals("attachment; filename=\"preferences-trl.jsonl\"",
                r.headers().firstValue("Content-Disposition").orElseThrow());
        assertEquals("no-store", r.headers().firstValue("Cache-Control").orElseThrow());
        assertError(send("GET", "/api/admin/export?format=csv", null, admin), 400, "format");
    }

    @Test
    void theDashboardStreamsTheRunsMetrics() throws Exception {
        Signed admin = signIn(adminToken);
        HttpRequest req = HttpRequest.newBuilder(URI.create(stack.ui.url() + "api/admin/dashboard"))
                .header("Cookie", COOKIE + "=" + admin.cookie()).build();
        HttpResponse<InputStream> r = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        List<String> lines = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            Files.writeString(runDir.resolve("metrics.jsonl"), "{\"iteration\":2,\"reward/rm_mean\":0.6}\n",
                    StandardOpenOption.APPEND);
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
        assertTrue(lines.contains("data: {\"iteration\":2,\"reward/rm_mean\":0.6}"),
                "an appended line follows live: " + lines);
    }

    @Test
    void signInAttemptsAreRateLimitedPerAddress() throws Exception {
        LabelingUiSettings strict = LabelingUiSettings.fromConfig(ConfigFactory.parseString(
                "rlhf.labeling-ui { port = 0, sign-in-attempts = 2 }").withFallback(ConfigFactory.load()));
        try (LabelingUiServer limited = LabelingUiServer.start(strict, stack.channel, Optional.empty())) {
            URI uri = URI.create(limited.url() + "api/session");
            List<Integer> statuses = new ArrayList<>();
            String retryAfter = null;
            for (int i = 0; i < 3; i++) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri)
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"token\":\"" + annToken + "\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                statuses.add(r.statusCode());
                retryAfter = r.headers().firstValue("Retry-After").orElse(null);
            }
            assertEquals(List.of(200, 200, 429), statuses, "even a right token waits once the attempts are spent");
            assertTrue(retryAfter != null && Integer.parseInt(retryAfter) > 0, "Retry-After: " + retryAfter);
        }
    }
}
