package dev.rlhf.cluster;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;

/** A call's single answer as a future: its first message, or its error. */
class UnaryAnswer<T> implements StreamObserver<T> {
    private final CompletableFuture<T> future = new CompletableFuture<>();

    CompletableFuture<T> future() {
        return future;
    }

    @Override
    public void onNext(T value) {
        future.complete(value);
    }

    @Override
    public void onError(Throwable t) {
        future.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
        future.completeExceptionally(new IllegalStateException("the call completed without an answer"));
    }
}
