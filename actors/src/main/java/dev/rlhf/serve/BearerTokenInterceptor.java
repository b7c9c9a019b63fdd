package dev.rlhf.serve;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Lets a call through only with {@code authorization: Bearer <token>}: a missing header and another token both
 * answer {@code UNAUTHENTICATED} (the caller has not proved who it is; {@code PERMISSION_DENIED} would be for a
 * known caller that may not do this). The token is compared in constant time.
 */
final class BearerTokenInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String SCHEME = "Bearer ";

    private final byte[] token;

    BearerTokenInterceptor(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        Optional<byte[]> presented = presentedToken(headers);
        if (presented.isEmpty()) {
            call.close(Status.UNAUTHENTICATED.withDescription("missing \"authorization: Bearer <token>\" header"),
                    new Metadata());
            return new ServerCall.Listener<>() {};
        }
        if (!MessageDigest.isEqual(token, presented.get())) {
            call.close(Status.UNAUTHENTICATED.withDescription("the bearer token is not accepted"), new Metadata());
            return new ServerCall.Listener<>() {};
        }
        return next.startCall(call, headers);
    }

    /** The token of the {@code authorization: Bearer <token>} header, as UTF-8; empty without one. */
    static Optional<byte[]> presentedToken(Metadata headers) {
        String authorization = headers.get(AUTHORIZATION);
        if (authorization == null || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return Optional.empty();
        }
        return Optional.of(authorization.substring(SCHEME.length()).trim().getBytes(StandardCharsets.UTF_8));
    }
}
