package dev.rlhf.labeling;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.protobuf.Timestamp;
import dev.rlhf.proto.v1.AddAnnotatorRequest;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AdjudicateRequest;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.AnnotatorAgreement;
import dev.rlhf.proto.v1.AnnotatorSummary;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Disagreement;
import dev.rlhf.proto.v1.DisagreementList;
import dev.rlhf.proto.v1.ExportFormat;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.GetAgreementRequest;
import dev.rlhf.proto.v1.GetLabelingOverviewRequest;
import dev.rlhf.proto.v1.GetQueueStatusRequest;
import dev.rlhf.proto.v1.Identity;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.ListDisagreementsRequest;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.NextTaskResponse;
import dev.rlhf.proto.v1.QueueState;
import dev.rlhf.proto.v1.QueueStatus;
import dev.rlhf.proto.v1.RetractJudgmentRequest;
import dev.rlhf.proto.v1.RetractJudgmentResponse;
import dev.rlhf.proto.v1.RevokeAnnotatorRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorResponse;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import dev.rlhf.proto.v1.WhoAmIRequest;
import dev.rlhf.proto.v1.AddAnnotatorResponse;
import io.grpc.Channel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.RemoteAddress;
import org.apache.pekko.http.javadsl.model.AttributeKeys;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP routes of the labeling UI (see the module's README): the pages, sign-in, the annotator's and the
 * admin's JSON API, the export download and the dashboard's event stream. Every answer carries the security
 * headers; every failure is a JSON {@code {"error", "field"}} body with a 4xx (or 502/503 when the store fails).
 */
final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    static final String SESSION_COOKIE = "rlhf_session";
    static final String CSRF_HEADER = "X-CSRF-Token";
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
            + "form-action 'self'; frame-ancestors 'none'";
    private static final List<HttpHeader> SECURITY_HEADERS = List.of(
            RawHeader.create("Content-Security-Policy", CONTENT_SECURITY_POLICY),
            RawHeader.create("X-Content-Type-Options", "nosniff"),
            RawHeader.create("Referrer-Policy", "no-referrer"),
            RawHeader.create("X-Frame-Options", "DENY"),
            RawHeader.create("Cross-Origin-Opener-Policy", "same-origin"));
    private static final ContentType JSONL =
            MediaTypes.applicationWithFixedCharset("x-ndjson", HttpCharsets.UTF_8, "jsonl").toContentType();
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);

    /** What a route does with a matched request. */
    @FunctionalInterface
    private interface Handler {
        CompletionStage<HttpResponse> handle(Call call) throws Exception;
    }

    /** Which requests a route answers, and who may send them. */
    private enum Access { PUBLIC, SIGN_IN, ANNOTATOR, ADMIN }

    private record Route(String method, Pattern path, Access access, Handler handler) {
    }

    /** One request on its way through a route. */
    private record Call(HttpRequest request, Matcher path, SessionStore.Session session, String body) {
        Optional<String> query(String name) {
            return request.getUri().query().get(name);
        }
    }

    private final LabelingUiSettings settings;
    private final Channel channel;
    private final SessionStore sessions;
    private final SignInRateLimiter signInLimiter;
    private final StaticAssets assets;
    private final Optional<java.nio.file.Path> runDir;
    private final Materializer materializer;
    private final Executor blockingExecutor;
    private final String guidelinesHtml;
    private final List<Route> routes = new ArrayList<>();

    HttpApi(LabelingUiSettings settings, Channel channel, SessionStore sessions, SignInRateLimiter signInLimiter,
            StaticAssets assets, Optional<java.nio.file.Path> runDir, Materializer materializer,
            Executor blockingExecutor) {
        this.settings = settings;
        this.channel = channel;
        this.sessions = sessions;
        this.signInLimiter = signInLimiter;
        this.assets = assets;
        this.runDir = runDir;
        this.materializer = materializer;
        this.blockingExecutor = blockingExecutor;
        this.guidelinesHtml = GuidelinesRenderer.render(settings.guidelinesMarkdown());

        route("GET", "/|/admin|/assets/[a-z]+\\.(?:js|css|svg)|/vendor/uplot/uPlot\\.(?:esm\\.js|min\\.css)",
                Access.PUBLIC, this::asset);
        route("POST", "/api/session", Access.SIGN_IN, this::signIn);
        route("GET", "/api/session", Access.PUBLIC, this::whoAmI);
        route("DELETE", "/api/session", Access.ANNOTATOR, this::signOut);
        route("GET", "/api/guidelines", Access.ANNOTATOR, this::guidelines);
        route("GET", "/api/task", Access.ANNOTATOR, this::nextTask);
        route("POST", "/api/judgments", Access.ANNOTATOR, this::submit);
        route("DELETE", "/api/judgments/([^/]+)", Access.ANNOTATOR, this::retract);
        route("GET", "/api/progress", Access.ANNOTATOR, this::progress);
        route("GET", "/api/admin/overview", Access.ADMIN, this::overview);
        route("POST", "/api/admin/annotators", Access.ADMIN, this::addAnnotator);
        route("DELETE", "/api/admin/annotators/([^/]+)", Access.ADMIN, this::revokeAnnotator);
        route("GET", "/api/admin/agreement", Access.ADMIN, this::agreement);
        route("GET", "/api/admin/disagreements", Access.ADMIN, this::disagreements);
        route("POST", "/api/admin/adjudications", Access.ADMIN, this::adjudicate);
        route("GET", "/api/admin/export", Access.ADMIN, this::export);
        route("GET", "/api/admin/dashboard", Access.ADMIN, this::dashboard);
    }

    private void route(String method, String pathRegex, Access access, Handler handler) {
        routes.add(new Route(method, Pattern.compile(pathRegex), access, handler));
    }

    /** Answers one request; never fails (a failure becomes a JSON error response). */
    CompletionStage<HttpResponse> handle(HttpRequest request) {
        CompletionStage<HttpResponse> answer;
        try {
            answer = dispatch(request);
        } catch (Exception e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.exceptionally(this::failure).thenApply(HttpApi::secured);
    }

    private CompletionStage<HttpResponse> dispatch(HttpRequest request) throws Exception {
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
            return authorize(request, r, m);
        }
        request.discardEntityBytes(materializer);
        if (!allowed.isEmpty()) {
            return CompletableFuture.completedFuture(errorResponse(new ApiError(405,
                    method + " is not allowed here; use " + String.join(" or ", allowed), null))
                    .addHeader(RawHeader.create("Allow", String.join(", ", allowed))));
        }
        throw new ApiError(404, "no such page or route: " + path);
    }

    private CompletionStage<HttpResponse> authorize(HttpRequest request, Route r, Matcher m) throws Exception {
        boolean changes = !r.method().equals("GET");
        if (changes) {
            checkOrigin(request);
        }
        SessionStore.Session session = null;
        if (r.access() == Access.ANNOTATOR || r.access() == Access.ADMIN) {
            session = cookie(request, SESSION_COOKIE).flatMap(sessions::touch)
                    .orElseThrow(() -> new ApiError(401, "not signed in (or the session expired)"));
            if (changes && !session.csrfMatches(request.getHeader(CSRF_HEADER).map(HttpHeader::value).orElse(null))) {
                throw new ApiError(403, "missing or wrong " + CSRF_HEADER + " header", CSRF_HEADER);
            }
            if (r.access() == Access.ADMIN && !session.admin()) {
                throw new ApiError(403, "this needs an admin token");
            }
        }
        if (r.method().equals("POST")) {
            SessionStore.Session s = session;
            return readBody(request).thenCompose(body -> {
                try {
                    return r.handler().handle(new Call(request, m, s, body));
                } catch (Exception e) {
                    return CompletableFuture.failedFuture(e);
                }
            });
        }
        request.discardEntityBytes(materializer);
        return r.handler().handle(new Call(request, m, session, ""));
    }

    /** A state-changing request from a page of another origin is refused (with SameSite=Strict and the CSRF token). */
    private void checkOrigin(HttpRequest request) {
        Optional<String> origin = request.getHeader("Origin").map(HttpHeader::value);
        if (origin.isEmpty()) {
            return;
        }
        String host = request.getHeader("Host").map(HttpHeader::value).orElse("");
        String expected = (settings.secureCookie() ? "https://" : "http://") + host;
        if (!origin.get().equalsIgnoreCase(expected)) {
            throw new ApiError(403, "request from another origin refused", "Origin");
        }
    }

    private CompletionStage<String> readBody(HttpRequest request) {
        long max = settings.maxRequestBytes();
        Optional<Long> declared = request.entity().getContentLengthOption().isPresent()
                ? Optional.of(request.entity().getContentLengthOption().getAsLong()) : Optional.empty();
        if (declared.isPresent() && declared.get() > max) {
            request.discardEntityBytes(materializer);
            return CompletableFuture.failedFuture(tooLarge());
        }
        String mediaType = request.entity().getContentType().mediaType().toString();
        if (!mediaType.equals("application/json")) {
            request.discardEntityBytes(materializer);
            return CompletableFuture.failedFuture(new ApiError(415, "send the body as application/json",
                    "Content-Type"));
        }
        return request.entity().toStrict(BODY_TIMEOUT.toMillis(), max, materializer)
                .thenApply(strict -> strict.getData().decodeString(StandardCharsets.UTF_8))
                .exceptionally(t -> {
                    Throwable c = GrpcErrors.unwrap(t);
                    if (c instanceof EntityStreamSizeException) {
                        throw tooLarge();
                    }
                    throw new ApiError(400, "the request body could not be read");
                });
    }

    private ApiError tooLarge() {
        return new ApiError(413, "the request body is larger than " + settings.maxRequestBytes() + " bytes");
    }

    // ---- pages ----

    private CompletionStage<HttpResponse> asset(Call call) {
        StaticAssets.Asset a = assets.get(call.request().getUri().path())
                .orElseThrow(() -> new ApiError(404, "no such file"));
        ContentType type = switch (a.kind()) {
            case "html" -> MediaTypes.TEXT_HTML.toContentType(HttpCharsets.UTF_8);
            case "css" -> MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8);
            case "svg" -> MediaTypes.IMAGE_SVG_XML.toContentType();
            default -> MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8);
        };
        return done(HttpResponse.create().withEntity(HttpEntities.create(type, a.bytes()))
                .addHeader(RawHeader.create("Cache-Control", a.immutable() ? "public, max-age=31536000, immutable"
                        : "no-cache")));
    }

    // ---- sign in and out ----

    private CompletionStage<HttpResponse> signIn(Call call) {
        String client = clientAddress(call.request());
        Optional<Duration> wait = signInLimiter.tryAcquire(client);
        if (wait.isPresent()) {
            throw new ApiError(429, "too many sign-in attempts; try again in " + seconds(wait.get()) + " s", null,
                    wait.get());
        }
        String token = Requests.signInToken(Json.parseObject(call.body()));
        PreferenceClient store = new PreferenceClient(channel, token, settings.callTimeout());
        return store.<Identity>call((s, o) -> s.whoAmI(WhoAmIRequest.getDefaultInstance(), o))
                .thenApply(identity -> {
                    SessionStore.Session session = sessions.create(token, identity.getAnnotatorId(),
                            identity.getAdmin());
                    String cookie = SESSION_COOKIE + "=" + session.id() + "; Path=/; HttpOnly; SameSite=Strict"
                            + (settings.secureCookie() ? "; Secure" : "");
                    return json(200, sessionJson(session)).addHeader(RawHeader.create("Set-Cookie", cookie));
                })
                .exceptionally(t -> {
                    ApiError e = GrpcErrors.fromThrowable(t);
                    if (e != null && e.status() == 401) {
                        throw new ApiError(401, "unknown or revoked token", "token");
                    }
                    throw asCompletion(t);
                });
    }

    /** The session of a reload: {@code signedIn} false (not a 401) when there is none, so the page just asks. */
    private CompletionStage<HttpResponse> whoAmI(Call call) {
        Optional<SessionStore.Session> s = cookie(call.request(), SESSION_COOKIE).flatMap(sessions::touch);
        if (s.isEmpty()) {
            JsonObject o = new JsonObject();
            o.addProperty("signedIn", false);
            return done(json(200, o));
        }
        return done(json(200, sessionJson(s.get())));
    }

    private CompletionStage<HttpResponse> signOut(Call call) {
        sessions.remove(call.session().id());
        return done(json(200, new JsonObject()).addHeader(RawHeader.create("Set-Cookie",
                SESSION_COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
                        + (settings.secureCookie() ? "; Secure" : ""))));
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

    private CompletionStage<HttpResponse> guidelines(Call call) {
        JsonObject o = new JsonObject();
        o.addProperty("html", guidelinesHtml);
        return done(json(200, o));
    }

    // ---- the annotator's work ----

    private CompletionStage<HttpResponse> nextTask(Call call) {
        SessionStore.Session s = call.session();
        return store(s).<NextTaskResponse>call((st, o) -> st.nextTask(NextTaskRequest.getDefaultInstance(), o))
                .thenApply(r -> {
                    JsonObject out = new JsonObject();
                    if (!r.hasTask() || r.getTask().getCandidatesCount() < 2) {
                        out.add("task", JsonNull.INSTANCE);
                        return json(200, out);
                    }
                    ComparisonTask task = r.getTask();
                    ScreenSides sides = ScreenSides.of(s.annotator(), task.getTaskId());
                    JsonObject t = new JsonObject();
                    t.addProperty("id", task.getTaskId());
                    t.addProperty("prompt", r.getPrompt().getText());
                    t.addProperty("a", task.getCandidates(sides.candidateShownAsA()).getText());
                    t.addProperty("b", task.getCandidates(sides.candidateShownAsB()).getText());
                    out.add("task", t);
                    return json(200, out);
                }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> submit(Call call) {
        SessionStore.Session s = call.session();
        Requests.Submit submit = Requests.submit(Json.parseObject(call.body()), settings.maxRationaleBytes());
        ScreenSides sides = ScreenSides.of(s.annotator(), submit.taskId());
        JudgmentSubmission.Builder j = JudgmentSubmission.newBuilder()
                .setJudgmentId(submit.judgmentId())
                .setTaskId(submit.taskId())
                .setChoice(sides.toTrue(submit.screenChoice()))
                .setCandidateA(0)
                .setCandidateB(1);
        submit.strength().ifPresent(j::setStrength);
        submit.rationale().ifPresent(j::setRationale);
        SubmitJudgmentRequest req = SubmitJudgmentRequest.newBuilder().setSubmission(j).build();
        return store(s).<SubmitJudgmentResponse>call((st, o) -> st.submitJudgment(req, o))
                .thenApply(r -> {
                    JsonObject out = new JsonObject();
                    out.addProperty("judgmentId", r.getJudgmentId());
                    out.addProperty("sequence", r.getSequence());
                    return json(200, out);
                }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> retract(Call call) {
        SessionStore.Session s = call.session();
        String id = Requests.judgmentId(call.path().group(1), "judgmentId");
        RetractJudgmentRequest req = RetractJudgmentRequest.newBuilder().setJudgmentId(id).build();
        return store(s).<RetractJudgmentResponse>call((st, o) -> st.retractJudgment(req, o))
                .thenApply(r -> {
                    JsonObject out = new JsonObject();
                    out.addProperty("taskId", r.getTaskId());
                    return json(200, out);
                }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> progress(Call call) {
        SessionStore.Session s = call.session();
        Instant since = Requests.since(call.query("since"));
        GetQueueStatusRequest req = GetQueueStatusRequest.newBuilder().setSince(timestamp(since)).build();
        return store(s).<QueueStatus>call((st, o) -> st.getQueueStatus(req, o))
                .thenApply(r -> {
                    JsonObject out = new JsonObject();
                    out.addProperty("doneSince", r.getJudgedSince());
                    out.addProperty("doneTotal", r.getJudgedTotal());
                    out.addProperty("tasksLeft", r.getTasksLeft());
                    out.addProperty("undoWindowMs", r.getUndoWindowMillis());
                    return json(200, out);
                }).exceptionally(t -> rethrow(s, t));
    }

    // ---- admin ----

    private CompletionStage<HttpResponse> overview(Call call) {
        SessionStore.Session s = call.session();
        return store(s).<LabelingOverview>call((st, o) -> st.getLabelingOverview(
                GetLabelingOverviewRequest.getDefaultInstance(), o)).thenApply(r -> {
                    JsonArray annotators = new JsonArray();
                    for (AnnotatorSummary a : r.getAnnotatorsList()) {
                        JsonObject o = new JsonObject();
                        o.addProperty("name", a.getName());
                        o.addProperty("admin", a.getAdmin());
                        o.addProperty("revoked", a.getRevoked());
                        o.addProperty("judgments", a.getJudgments());
                        o.addProperty("skips", a.getSkips());
                        o.addProperty("judgmentsLastHour", a.getJudgmentsLastHour());
                        o.add("medianSecondsBetween", Json.finite(a.getMedianSecondsBetween()));
                        o.addProperty("lastJudgedAt", a.hasLastJudgedAt() ? instant(a.getLastJudgedAt()) : null);
                        annotators.add(o);
                    }
                    QueueState q = r.getQueue();
                    JsonObject queue = new JsonObject();
                    queue.addProperty("tasks", q.getTasks());
                    queue.addProperty("openTasks", q.getOpenTasks());
                    queue.addProperty("activeLeases", q.getActiveLeases());
                    queue.addProperty("judgments", q.getJudgments());
                    queue.addProperty("adjudicatedTasks", q.getAdjudicatedTasks());
                    JsonObject out = new JsonObject();
                    out.add("annotators", annotators);
                    out.add("queue", queue);
                    return json(200, out);
                }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> addAnnotator(Call call) {
        SessionStore.Session s = call.session();
        Requests.NewAnnotator a = Requests.newAnnotator(Json.parseObject(call.body()));
        AddAnnotatorRequest req = AddAnnotatorRequest.newBuilder().setName(a.name()).setAdmin(a.admin()).build();
        return store(s).<AddAnnotatorResponse>call((st, o) -> st.addAnnotator(req, o)).thenApply(r -> {
            JsonObject out = new JsonObject();
            out.addProperty("name", r.getName());
            out.addProperty("token", r.getToken());
            return json(201, out);
        }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> revokeAnnotator(Call call) {
        SessionStore.Session s = call.session();
        String name = Requests.id(java.net.URLDecoder.decode(call.path().group(1).replace("+", "%2B"),
                StandardCharsets.UTF_8), "name");
        RevokeAnnotatorRequest req = RevokeAnnotatorRequest.newBuilder().setName(name).build();
        return store(s).<RevokeAnnotatorResponse>call((st, o) -> st.revokeAnnotator(req, o)).thenApply(r -> {
            JsonObject out = new JsonObject();
            out.addProperty("revoked", name);
            return json(200, out);
        }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> agreement(Call call) {
        SessionStore.Session s = call.session();
        int minShared = Requests.intParam(call.query("minShared"), "minShared", 0, 1_000_000);
        GetAgreementRequest req = GetAgreementRequest.newBuilder().setMinSharedItems(minShared).build();
        return store(s).<AgreementReport>call((st, o) -> st.getAgreement(req, o)).thenApply(r -> {
            JsonObject out = new JsonObject();
            out.add("krippendorffAlpha", Json.finite(r.getKrippendorffAlpha()));
            out.add("percentAgreement", Json.finite(r.getPercentAgreement()));
            out.addProperty("items", r.getItems());
            out.addProperty("judgments", r.getJudgments());
            JsonArray pairs = new JsonArray();
            r.getPairwiseList().forEach(p -> {
                JsonObject o = new JsonObject();
                o.addProperty("annotatorA", p.getAnnotatorA());
                o.addProperty("annotatorB", p.getAnnotatorB());
                o.add("kappa", Json.finite(p.getKappa()));
                o.addProperty("sharedItems", p.getSharedItems());
                pairs.add(o);
            });
            out.add("pairwise", pairs);
            JsonArray annotators = new JsonArray();
            for (AnnotatorAgreement a : r.getAnnotatorsList()) {
                JsonObject o = new JsonObject();
                o.addProperty("annotator", a.getAnnotator());
                o.add("agreementWithMajority", Json.finite(a.getAgreementWithMajority()));
                o.addProperty("items", a.getItems());
                annotators.add(o);
            }
            out.add("annotators", annotators);
            return json(200, out);
        }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> disagreements(Call call) {
        SessionStore.Session s = call.session();
        int limit = Requests.intParam(call.query("limit"), "limit", 100, 1000);
        boolean open = call.query("unadjudicatedOnly").map("true"::equals).orElse(false);
        ListDisagreementsRequest req = ListDisagreementsRequest.newBuilder().setLimit(limit)
                .setUnadjudicatedOnly(open).build();
        return store(s).<DisagreementList>call((st, o) -> st.listDisagreements(req, o)).thenApply(r -> {
            JsonArray list = new JsonArray();
            for (Disagreement d : r.getDisagreementsList()) {
                JsonObject o = new JsonObject();
                o.addProperty("taskId", d.getTask().getTaskId());
                o.addProperty("prompt", d.getPrompt().getText());
                o.addProperty("a", d.getTask().getCandidatesCount() > 0 ? d.getTask().getCandidates(0).getText() : "");
                o.addProperty("b", d.getTask().getCandidatesCount() > 1 ? d.getTask().getCandidates(1).getText() : "");
                JsonArray judgments = new JsonArray();
                for (Judgment j : d.getJudgmentsList()) {
                    JudgmentSubmission sub = j.getSubmission();
                    JsonObject jo = new JsonObject();
                    jo.addProperty("annotator", sub.getAnnotatorId());
                    jo.addProperty("choice", wireName(onFirstPair(sub.getChoice(), sub.getCandidateA(),
                            sub.getCandidateB())));
                    jo.addProperty("strength", sub.hasStrength() ? sub.getStrength() : null);
                    jo.addProperty("rationale", sub.hasRationale() ? sub.getRationale() : null);
                    judgments.add(jo);
                }
                o.add("judgments", judgments);
                if (d.hasAdjudication()) {
                    Adjudication a = d.getAdjudication();
                    JsonObject ao = new JsonObject();
                    ao.addProperty("choice", wireName(onFirstPair(a.getChoice(), a.getCandidateA(), a.getCandidateB())));
                    ao.addProperty("adjudicator", a.getAdjudicator());
                    ao.addProperty("note", a.hasNote() ? a.getNote() : null);
                    o.add("adjudication", ao);
                } else {
                    o.add("adjudication", JsonNull.INSTANCE);
                }
                list.add(o);
            }
            JsonObject out = new JsonObject();
            out.add("disagreements", list);
            return json(200, out);
        }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> adjudicate(Call call) {
        SessionStore.Session s = call.session();
        Requests.Verdict v = Requests.verdict(Json.parseObject(call.body()), settings.maxRationaleBytes());
        Adjudication.Builder a = Adjudication.newBuilder().setTaskId(v.taskId()).setChoice(v.choice())
                .setCandidateA(0).setCandidateB(1);
        v.note().ifPresent(a::setNote);
        AdjudicateRequest req = AdjudicateRequest.newBuilder().setAdjudication(a).build();
        return store(s).<Adjudication>call((st, o) -> st.adjudicate(req, o)).thenApply(r -> {
            JsonObject out = new JsonObject();
            out.addProperty("taskId", r.getTaskId());
            out.addProperty("choice", wireName(r.getChoice()));
            out.addProperty("adjudicator", r.getAdjudicator());
            return json(200, out);
        }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> export(Call call) {
        SessionStore.Session s = call.session();
        String format = call.query("format").orElse("");
        ExportFormat f = switch (format) {
            case "trl" -> ExportFormat.EXPORT_FORMAT_TRL;
            case "hh" -> ExportFormat.EXPORT_FORMAT_HH_RLHF;
            default -> throw ApiError.badRequest("format must be trl or hh", "format");
        };
        PreferenceClient store = store(s);
        ExportRequest req = ExportRequest.newBuilder().setFormat(f).build();
        // the first line (or the call's error) is awaited before answering, so a refusal is a proper 4xx
        return CompletableFuture.supplyAsync(() -> {
            PreferenceClient.Export export = store.export(req);
            try {
                export.lines().hasNext();
            } catch (RuntimeException e) {
                export.context().cancel(null);
                throw e;
            }
            return export;
        }, blockingExecutor).thenApply(export -> {
            Source<ByteString, ?> body = Source.<ByteString, PreferenceClient.Export>unfoldResource(
                    () -> export,
                    e -> {
                        if (!e.lines().hasNext()) {
                            return Optional.empty();
                        }
                        ExportLine line = e.lines().next();
                        return Optional.of(ByteString.fromString(line.getLine() + "\n", StandardCharsets.UTF_8));
                    },
                    e -> e.context().cancel(null));
            return HttpResponse.create().withEntity(HttpEntities.createChunked(JSONL, body))
                    .addHeader(RawHeader.create("Content-Disposition",
                            "attachment; filename=\"preferences-" + format + ".jsonl\""))
                    .addHeader(RawHeader.create("Cache-Control", "no-store"));
        }).exceptionally(t -> rethrow(s, t));
    }

    private CompletionStage<HttpResponse> dashboard(Call call) {
        DashboardEvents events = new DashboardEvents(runDir, settings.metricsPollInterval());
        Source<ByteString, ?> stream = Source.tick(Duration.ZERO, settings.metricsPollInterval(), "tick")
                .mapConcat(t -> events.poll())
                .map(ByteString::fromString);
        return done(HttpResponse.create()
                .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(), stream))
                .addHeader(RawHeader.create("Cache-Control", "no-store")));
    }

    // ---- helpers ----

    private PreferenceClient store(SessionStore.Session s) {
        return new PreferenceClient(channel, s.token(), settings.callTimeout());
    }

    /** Rethrows a failed store call; a token the store no longer accepts ends the session. */
    private HttpResponse rethrow(SessionStore.Session s, Throwable t) {
        ApiError e = GrpcErrors.fromThrowable(t);
        if (e != null && e.status() == 401 && s != null) {
            sessions.remove(s.id());
        }
        throw asCompletion(t);
    }

    private static java.util.concurrent.CompletionException asCompletion(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException ce ? ce
                : new java.util.concurrent.CompletionException(t);
    }

    private HttpResponse failure(Throwable t) {
        ApiError e = GrpcErrors.fromThrowable(t);
        if (e == null) {
            Throwable cause = GrpcErrors.unwrap(t);
            log.error("unexpected failure answering a request", cause);
            e = new ApiError(500, "internal error");
        }
        return errorResponse(e);
    }

    static HttpResponse errorResponse(ApiError e) {
        HttpResponse r = json(e.status(), Json.error(e.getMessage(), e.field().orElse(null)));
        if (e.retryAfter().isPresent()) {
            r = r.addHeader(RawHeader.create("Retry-After", Long.toString(seconds(e.retryAfter().get()))));
        }
        return r;
    }

    private static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }

    private static HttpResponse json(int status, Object body) {
        String text = body instanceof String str ? str : Json.GSON.toJson(body);
        return HttpResponse.create().withStatus(status)
                .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, text.getBytes(StandardCharsets.UTF_8)))
                .addHeader(RawHeader.create("Cache-Control", "no-store"));
    }

    private static HttpResponse secured(HttpResponse r) {
        return r.addHeaders(SECURITY_HEADERS);
    }

    private static CompletionStage<HttpResponse> done(HttpResponse r) {
        return CompletableFuture.completedFuture(r);
    }

    static Optional<String> cookie(HttpRequest request, String name) {
        for (HttpHeader h : request.getHeaders()) {
            if (!h.lowercaseName().equals("cookie")) {
                continue;
            }
            for (String part : h.value().split(";")) {
                int eq = part.indexOf('=');
                if (eq > 0 && part.substring(0, eq).trim().equals(name)) {
                    return Optional.of(part.substring(eq + 1).trim());
                }
            }
        }
        return Optional.empty();
    }

    private static String clientAddress(HttpRequest request) {
        return request.getAttribute(AttributeKeys.remoteAddress).flatMap(RemoteAddress::getAddress)
                .map(java.net.InetAddress::getHostAddress).orElse("unknown");
    }

    private static Timestamp timestamp(Instant i) {
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    private static String instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
    }

    /** A verdict over (candidateA, candidateB) as a verdict over (0, 1), when the pair is those two. */
    private static Choice onFirstPair(Choice c, int candidateA, int candidateB) {
        boolean reversed = candidateA == 1 && candidateB == 0;
        return reversed ? new ScreenSides(true).toTrue(c) : c;
    }

    static String wireName(Choice c) {
        for (Map.Entry<String, Choice> e : Requests.CHOICES.entrySet()) {
            if (e.getValue() == c) {
                return e.getKey();
            }
        }
        return c.name().toLowerCase(Locale.ROOT);
    }
}
