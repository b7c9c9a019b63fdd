package dev.rlhf.labeling;

import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import io.grpc.Channel;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * PreferenceService calls made for one signed-in user: each call carries their token as
 * {@code authorization: Bearer <token>}, so the store decides what they may do.
 */
final class PreferenceClient {

    private static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final PreferenceServiceGrpc.PreferenceServiceStub async;
    private final PreferenceServiceGrpc.PreferenceServiceBlockingStub blocking;
    private final Duration timeout;

    PreferenceClient(Channel channel, String token, Duration timeout) {
        Metadata headers = new Metadata();
        headers.put(AUTHORIZATION, "Bearer " + token);
        this.async = PreferenceServiceGrpc.newStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        this.blocking = PreferenceServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        this.timeout = timeout;
    }

    /** A unary call with the deadline, as a future failing with the call's StatusRuntimeException. */
    <R> CompletableFuture<R> call(BiConsumer<PreferenceServiceGrpc.PreferenceServiceStub, StreamObserver<R>> rpc) {
        CompletableFuture<R> result = new CompletableFuture<>();
        rpc.accept(async.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS), new StreamObserver<R>() {
            @Override
            public void onNext(R value) {
                result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                result.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
                result.completeExceptionally(new IllegalStateException("the call ended without an answer"));
            }
        });
        return result;
    }

    /**
     * Starts an export in a cancellable context; the caller reads the iterator (blocking) and cancels the
     * context when done or when the download is abandoned.
     */
    Export export(ExportRequest request) {
        Context.CancellableContext context = Context.current().withCancellation();
        Context previous = context.attach();
        try {
            return new Export(context, blocking.export(request));
        } finally {
            context.detach(previous);
        }
    }

    /** A running export. */
    record Export(Context.CancellableContext context, Iterator<ExportLine> lines) {
    }
}
