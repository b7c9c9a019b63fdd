package dev.rlhf.serve;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Authenticates PreferenceService calls when annotator tokens are configured ({@code rlhf.serve.annotator-tokens}):
 * a call bearing an annotator's token ({@code authorization: Bearer <token>}) is that annotator's, and their id is
 * {@link #ANNOTATOR} in the call's {@link Context}; a call bearing the server's token (when auth is on) is an
 * operator's tool acting for annotators, with no annotator in the context; any other token or none answers {@code
 * UNAUTHENTICATED}. The presented token is compared in constant time with every configured one, so timing tells
 * neither whether nor whose token matched.
 */
final class AnnotatorTokenInterceptor implements ServerInterceptor {
    /** The annotator whose token the call bears; null for the server's token. */
    static final Context.Key<String> ANNOTATOR = Context.key("rlhf-annotator");

    private final byte[] serverToken;
    private final Map<String, byte[]> annotatorTokens = new LinkedHashMap<>();

    /**
     * @param serverToken the token of the other services; empty when auth is off (then only annotators get in)
     * @param annotatorTokens annotator id to token
     */
    AnnotatorTokenInterceptor(String serverToken, Map<String, String> annotatorTokens) {
        this.serverToken = serverToken.isEmpty() ? null : serverToken.getBytes(StandardCharsets.UTF_8);
        annotatorTokens.forEach((id, token) -> this.annotatorTokens.put(id, token.getBytes(StandardCharsets.UTF_8)));
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        Optional<byte[]> presented = BearerTokenInterceptor.presentedToken(headers);
        if (presented.isEmpty()) {
            call.close(Status.UNAUTHENTICATED.withDescription("missing \"authorization: Bearer <token>\" header"),
                    new Metadata());
            return new ServerCall.Listener<>() {};
        }
        String owner = null;
        for (Map.Entry<String, byte[]> annotator : annotatorTokens.entrySet()) {
            if (MessageDigest.isEqual(annotator.getValue(), presented.get())) {
                owner = annotator.getKey();
            }
        }
        boolean server = serverToken != null && MessageDigest.isEqual(serverToken, presented.get());
        if (owner == null && !server) {
            call.close(Status.UNAUTHENTICATED.withDescription("the bearer token is not accepted"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return owner == null ? next.startCall(call, headers)
                : Contexts.interceptCall(Context.current().withValue(ANNOTATOR, owner), call, headers, next);
    }
}
