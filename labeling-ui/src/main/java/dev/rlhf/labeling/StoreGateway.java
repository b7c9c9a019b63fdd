package dev.rlhf.labeling;

import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * PreferenceService calls on behalf of a signed-in session, with its token; a call the store refuses as
 * unauthenticated (a revoked annotator) ends the session.
 */
final class StoreGateway {
    private final Channel channel;
    private final Duration callTimeout;
    private final SessionStore sessions;

    StoreGateway(Channel channel, Duration callTimeout, SessionStore sessions) {
        this.channel = channel;
        this.callTimeout = callTimeout;
        this.sessions = sessions;
    }

    /** A client carrying {@code token}. */
    PreferenceClient client(String token) {
        return new PreferenceClient(channel, token, callTimeout);
    }

    /** A unary call as the session's user, its reply turned into an answer by {@code answer}. */
    <R> CompletionStage<HttpResponse> call(SessionStore.Session s,
            BiConsumer<PreferenceServiceGrpc.PreferenceServiceStub, StreamObserver<R>> rpc,
            Function<R, HttpResponse> answer) {
        return client(s.token()).call(rpc).thenApply(answer).exceptionally(t -> rethrow(s, t));
    }

    /** Rethrows a failed store call; a token the store no longer accepts ends the session. */
    HttpResponse rethrow(SessionStore.Session s, Throwable t) {
        ApiError e = GrpcErrors.fromThrowable(t);
        if (e != null && e.status() == 401) {
            sessions.remove(s.id());
        }
        throw asCompletion(t);
    }

    static CompletionException asCompletion(Throwable t) {
        return t instanceof CompletionException ce ? ce : new CompletionException(t);
    }
}
