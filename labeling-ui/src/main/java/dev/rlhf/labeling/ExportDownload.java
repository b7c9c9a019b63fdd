package dev.rlhf.labeling;

import dev.rlhf.proto.v1.ExportFormat;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/** {@code GET /api/admin/export?format=trl|hh}: the store's Export stream as a JSONL download. */
final class ExportDownload {
    private static final ContentType JSONL =
            MediaTypes.applicationWithFixedCharset("x-ndjson", HttpCharsets.UTF_8, "jsonl").toContentType();

    private final StoreGateway store;
    private final Executor blockingExecutor;

    /** @param blockingExecutor where the blocking export stub is first read */
    ExportDownload(StoreGateway store, Executor blockingExecutor) {
        this.store = store;
        this.blockingExecutor = blockingExecutor;
    }

    void addTo(Router router) {
        router.add("GET", "/api/admin/export", Route.Access.ADMIN, this::export);
    }

    private CompletionStage<HttpResponse> export(ApiCall call) {
        SessionStore.Session s = call.session();
        String format = call.query("format").orElse("");
        ExportFormat f = switch (format) {
            case "trl" -> ExportFormat.EXPORT_FORMAT_TRL;
            case "hh" -> ExportFormat.EXPORT_FORMAT_HH_RLHF;
            default -> throw ApiError.badRequest("format must be trl or hh", "format");
        };
        PreferenceClient client = store.client(s.token());
        ExportRequest req = ExportRequest.newBuilder().setFormat(f).build();
        // the first line (or the call's error) is awaited before answering, so a refusal is a proper 4xx
        return CompletableFuture.supplyAsync(() -> {
            PreferenceClient.Export export = client.export(req);
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
                    .addHeader(Responses.NO_STORE);
        }).exceptionally(t -> store.rethrow(s, t));
    }
}
