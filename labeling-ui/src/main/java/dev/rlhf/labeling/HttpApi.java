package dev.rlhf.labeling;

import io.grpc.Channel;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The labeling UI's HTTP routes put together (see the module's README): the pages, sign-in, the annotator's and the
 * admin's JSON API, the export download and the dashboard's event stream. Every answer carries the security
 * headers; every failure is a JSON {@code {"error", "field"}} body with a 4xx (or 502/503 when the store fails).
 */
final class HttpApi {
    private static final Logger log = LoggerFactory.getLogger(HttpApi.class);

    private final Router router;

    HttpApi(LabelingUiSettings settings, Channel channel, SessionStore sessions, SignInRateLimiter signInLimiter,
            StaticAssets assets, Optional<Path> runDir, Materializer materializer, Executor blockingExecutor) {
        StoreGateway store = new StoreGateway(channel, settings.callTimeout(), sessions);
        router = new Router(new RequestGuard(sessions, settings.secureCookie()),
                new RequestBodyReader(settings.maxRequestBytes(), materializer), materializer);
        // the order counts where routes share a path: it is the order of the methods in a 405's Allow
        new AssetRoutes(assets).addTo(router);
        new SessionRoutes(settings, sessions, signInLimiter, store).addTo(router);
        new AnnotatorRoutes(store, settings.maxRationaleBytes(), settings.guidelinesMarkdown()).addTo(router);
        new AdminRoutes(store, settings.maxRationaleBytes()).addTo(router);
        new ExportDownload(store, blockingExecutor).addTo(router);
        new DashboardStream(runDir, settings.metricsPollInterval()).addTo(router);
    }

    /** Answers one request; never fails (a failure becomes a JSON error response). */
    CompletionStage<HttpResponse> handle(HttpRequest request) {
        CompletionStage<HttpResponse> answer;
        try {
            answer = router.dispatch(request);
        } catch (Exception e) {
            answer = CompletableFuture.failedFuture(e);
        }
        return answer.exceptionally(HttpApi::failure).thenApply(Responses::secured);
    }

    private static HttpResponse failure(Throwable t) {
        ApiError e = GrpcErrors.fromThrowable(t);
        if (e == null) {
            log.error("unexpected failure answering a request", GrpcErrors.unwrap(t));
            e = new ApiError(500, "internal error");
        }
        return Responses.error(e);
    }
}
