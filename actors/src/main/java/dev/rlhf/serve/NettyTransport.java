package dev.rlhf.serve;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;

/** The production transport: a Netty server builder bound, secured and tuned as the settings say. */
public final class NettyTransport {
    private NettyTransport() {}

    /**
     * A builder listening on {@code settings.host():settings.port()}, with TLS when a certificate and key are
     * configured, the inbound message cap and the keep-alive policy.
     *
     * @throws UncheckedIOException if the certificate or key cannot be read
     */
    public static ServerBuilder<?> builder(ServeSettings settings) {
        return NettyServerBuilder.forAddress(new InetSocketAddress(settings.host(), settings.port()),
                        credentials(settings))
                .maxInboundMessageSize(settings.maxInboundMessageBytes())
                .keepAliveTime(settings.keepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(settings.keepAliveTimeout().toMillis(), TimeUnit.MILLISECONDS)
                .permitKeepAliveTime(settings.permitKeepAliveTime().toMillis(), TimeUnit.MILLISECONDS)
                .permitKeepAliveWithoutCalls(true);
    }

    private static ServerCredentials credentials(ServeSettings settings) {
        if (settings.tlsCertChain().isEmpty()) {
            return InsecureServerCredentials.create();
        }
        try {
            return TlsServerCredentials.create(settings.tlsCertChain().get().toFile(),
                    settings.tlsPrivateKey().orElseThrow().toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the TLS certificate chain or private key", e);
        }
    }
}
