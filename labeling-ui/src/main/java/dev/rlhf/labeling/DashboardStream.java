package dev.rlhf.labeling;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** {@code GET /api/admin/dashboard}: the run's {@link DashboardEvents} as a server-sent event stream. */
final class DashboardStream {
    private final Optional<Path> runDir;
    private final Duration pollInterval;

    DashboardStream(Optional<Path> runDir, Duration pollInterval) {
        this.runDir = runDir;
        this.pollInterval = pollInterval;
    }

    void addTo(Router router) {
        router.add("GET", "/api/admin/dashboard", Route.Access.ADMIN, this::stream);
    }

    private CompletionStage<HttpResponse> stream(ApiCall call) {
        DashboardEvents events = new DashboardEvents(runDir, pollInterval);
        Source<ByteString, ?> stream = Source.tick(Duration.ZERO, pollInterval, "tick")
                .mapConcat(t -> events.poll())
                .map(ByteString::fromString);
        return Responses.done(HttpResponse.create()
                .withEntity(HttpEntities.createChunked(MediaTypes.TEXT_EVENT_STREAM.toContentType(), stream))
                .addHeader(Responses.NO_STORE));
    }
}
