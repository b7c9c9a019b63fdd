package dev.rlhf.auth;

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
 * known caller that may not do this). The token is compared in constant time and never appears in a status a caller
 * sees. Serving ({@code rlhf.serve.auth-token}) and the cluster's nodes ({@code rlhf.cluster.token}) both use it.
 */
public final class BearerTokenInterceptor implements ServerInterceptor {
    public static final Metadata.Key<String> AUTHORIZATION =
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    public static final String SCHEME = "Bearer ";

    private final byte[] token;
    private final String tokenName;

    /**
     * @param token the token a call must bear
     * @param tokenName what the refusal of a call without the header calls the token ({@code token},
     *     {@code rlhf.cluster.token})
     */
    public BearerTokenInterceptor(String token, String tokenName) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.tokenName = tokenName;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        Optional<byte[]> presented = presentedToken(headers);
        if (presented.isEmpty()) {
            return refuse(call, "missing \"authorization: Bearer <" + tokenName + ">\" header");
        }
        if (!MessageDigest.isEqual(token, presented.get())) {
            return refuse(call, "the bearer token is not accepted");
        }
        return next.startCall(call, headers);
    }

    /** The token of the {@code authorization: Bearer <token>} header, as UTF-8; empty without one. */
    public static Optional<byte[]> presentedToken(Metadata headers) {
        String authorization = headers.get(AUTHORIZATION);
        if (authorization == null || !authorization.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
            return Optional.empty();
        }
        return Optional.of(authorization.substring(SCHEME.length()).trim().getBytes(StandardCharsets.UTF_8));
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String why) {
        call.close(Status.UNAUTHENTICATED.withDescription(why), new Metadata());
        return new ServerCall.Listener<>() {};
    }
}
