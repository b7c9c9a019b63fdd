package dev.rlhf.labeling;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;

/** Reads a request's JSON body: 413 when too large, 415 when not {@code application/json}, 400 when unreadable. */
final class RequestBodyReader {
    private static final Duration BODY_TIMEOUT = Duration.ofSeconds(10);

    private final long maxBytes;
    private final Materializer materializer;

    RequestBodyReader(long maxBytes, Materializer materializer) {
        this.maxBytes = maxBytes;
        this.materializer = materializer;
    }

    /** The body as text; fails with the ApiError that refuses it. */
    CompletionStage<String> read(HttpRequest request) {
        var declared = request.entity().getContentLengthOption();
        if (declared.isPresent() && declared.getAsLong() > maxBytes) {
            request.discardEntityBytes(materializer);
            return CompletableFuture.failedFuture(tooLarge());
        }
        String mediaType = request.entity().getContentType().mediaType().toString();
        if (!mediaType.equals("application/json")) {
            request.discardEntityBytes(materializer);
            return CompletableFuture.failedFuture(new ApiError(415, "send the body as application/json",
                    "Content-Type"));
        }
        return request.entity().toStrict(BODY_TIMEOUT.toMillis(), maxBytes, materializer)
                .thenApply(strict -> strict.getData().decodeString(StandardCharsets.UTF_8))
                .exceptionally(t -> {
                    if (GrpcErrors.unwrap(t) instanceof EntityStreamSizeException) {
                        throw tooLarge();
                    }
                    throw new ApiError(400, "the request body could not be read");
                });
    }

    private ApiError tooLarge() {
        return new ApiError(413, "the request body is larger than " + maxBytes + " bytes");
    }
}
