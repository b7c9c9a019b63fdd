package dev.rlhf.serve;

import dev.rlhf.auth.BearerTokenInterceptor;
import dev.rlhf.proto.v1.Annotator;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.StoreUnavailableException;
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
 * Authenticates PreferenceService calls and puts the caller ({@link PreferenceCaller}) in the call's {@link
 * Context}. A call's {@code authorization: Bearer <token>} may be the server's token ({@code rlhf.serve.auth-token}:
 * an operator, admin, acting for any annotator), a configured annotator token ({@code rlhf.serve.annotator-tokens}:
 * that annotator, not admin), or a token registered in the store ({@link PreferenceStore#annotatorByToken}: that
 * annotator, admin as registered). A registered token is looked up on every call, so a revoked one is refused on its
 * next call.
 *
 * <p>Authentication is on when any of those exists: a server token, configured tokens, or an annotator ever
 * registered in the store (checked per call, so the first registration turns it on at once). Then a missing or
 * unknown token answers UNAUTHENTICATED. While it is off every call goes through with no caller in the context (the
 * request's annotator_id is taken as sent; the admin RPCs refuse). Configured tokens are compared in constant time
 * with every one of them; a store that cannot be read answers UNAVAILABLE.
 */
final class AnnotatorTokenInterceptor implements ServerInterceptor {
    private final byte[] serverToken;
    private final Map<String, byte[]> annotatorTokens = new LinkedHashMap<>();
    private final PreferenceStore store;

    /**
     * @param serverToken the token of the other services; empty when they need none
     * @param annotatorTokens configured annotator id to token
     * @param store the store whose registered annotators may call too
     */
    AnnotatorTokenInterceptor(String serverToken, Map<String, String> annotatorTokens, PreferenceStore store) {
        this.serverToken = serverToken.isEmpty() ? null : serverToken.getBytes(StandardCharsets.UTF_8);
        annotatorTokens.forEach((id, token) -> this.annotatorTokens.put(id, token.getBytes(StandardCharsets.UTF_8)));
        this.store = store;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        Optional<byte[]> presented = BearerTokenInterceptor.presentedToken(headers);
        Optional<PreferenceCaller> caller;
        boolean authOn;
        try {
            caller = presented.flatMap(this::caller);
            authOn = caller.isPresent() || serverToken != null || !annotatorTokens.isEmpty() || store.hasAnnotators();
        } catch (StoreUnavailableException e) {
            return refuse(call, Status.UNAVAILABLE.withDescription(e.getMessage()));
        }
        if (caller.isPresent()) {
            return Contexts.interceptCall(Context.current().withValue(PreferenceCaller.KEY, caller.get()), call,
                    headers, next);
        }
        if (!authOn) {
            return next.startCall(call, headers);
        }
        return refuse(call, Status.UNAUTHENTICATED.withDescription(presented.isEmpty()
                ? "missing \"authorization: Bearer <token>\" header"
                : "the bearer token is not accepted"));
    }

    /** The owner of a presented token, if anyone's. */
    private Optional<PreferenceCaller> caller(byte[] presented) {
        String owner = null;
        for (Map.Entry<String, byte[]> annotator : annotatorTokens.entrySet()) {
            if (MessageDigest.isEqual(annotator.getValue(), presented)) {
                owner = annotator.getKey();
            }
        }
        if (owner != null) {
            return Optional.of(new PreferenceCaller(owner, false));
        }
        if (serverToken != null && MessageDigest.isEqual(serverToken, presented)) {
            return Optional.of(PreferenceCaller.operator());
        }
        Optional<Annotator> registered = store.annotatorByToken(new String(presented, StandardCharsets.UTF_8));
        return registered.map(a -> new PreferenceCaller(a.getName(), a.getAdmin()));
    }

    private static <Q> ServerCall.Listener<Q> refuse(ServerCall<Q, ?> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
