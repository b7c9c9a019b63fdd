package dev.rlhf.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.auth.BearerTokenInterceptor;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * What a node proves itself with to the other nodes, read from {@code rlhf.cluster.tls} and
 * {@code rlhf.cluster.token}. With TLS, Artery runs {@code tls-tcp} and the nodes' gRPC runs TLS, both with mutual
 * authentication against the same PKCS12 key store (this node's key and certificate chain) and trust store (the
 * cluster's CA), and both check that a peer's certificate names the host it was reached at. With a token, every
 * gRPC call between nodes carries it as a bearer token and a worker node answers a call without it
 * {@code UNAUTHENTICATED}. The secrets (passwords, token) appear in no {@code toString} and no error message.
 *
 * <p>Artery uses Pekko's {@code ConfigSSLEngineProvider} on key stores rather than the PEM-reading
 * {@code RotatingKeysSSLEngineProvider}: the JDK reads PKCS12 and {@code keytool} makes it, so operators need no
 * other tool, any key algorithm works (the PEM provider takes RSA keys only, unencrypted), and the very same
 * {@link KeyManagerFactory} and {@link TrustManagerFactory} serve gRPC without a PEM parser of our own.
 */
public final class ClusterCredentials {
    private static final String TLS = "rlhf.cluster.tls.";

    private final Optional<Tls> tls;
    private final Optional<String> token;
    /** Key material read once, when first needed: each proxy of the coordinator opens a channel with it. */
    private KeyMaterial material;

    /** PKCS12 stores and their passwords; all four set, or none. */
    private record Tls(Path keyStore, char[] keyStorePassword, Path trustStore, char[] trustStorePassword) {
        @Override
        public String toString() {
            return "tls(key-store " + keyStore + ", trust-store " + trustStore + ")";
        }
    }

    private record KeyMaterial(KeyManagerFactory keys, TrustManagerFactory trust) {}

    private ClusterCredentials(Optional<Tls> tls, Optional<String> token) {
        this.tls = tls;
        this.token = token;
    }

    /** No TLS, no token: plain Artery TCP and plaintext gRPC, for a cluster on loopback only. */
    public static ClusterCredentials none() {
        return new ClusterCredentials(Optional.empty(), Optional.empty());
    }

    /**
     * Reads {@code tls} and {@code token} of the {@code rlhf.cluster} section {@code cluster}; the stores are read
     * only when first used ({@link #check}).
     *
     * @throws IllegalArgumentException if TLS is configured in part, naming the missing keys
     */
    static ClusterCredentials from(Config cluster) {
        Map<String, String> keys = new HashMap<>();
        for (String key : new String[] {"key-store", "key-store-password", "trust-store", "trust-store-password"}) {
            keys.put(key, cluster.getString("tls." + key));
        }
        Optional<Tls> tls = Optional.empty();
        if (keys.values().stream().anyMatch(v -> !v.isEmpty())) {
            String missing = keys.entrySet().stream().filter(e -> e.getValue().isEmpty()).map(e -> TLS + e.getKey())
                    .sorted().reduce((a, b) -> a + ", " + b).orElse("");
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("rlhf.cluster.tls is set in part: set " + missing + " as well "
                        + "(or none of rlhf.cluster.tls)");
            }
            tls = Optional.of(new Tls(Path.of(keys.get("key-store")), keys.get("key-store-password").toCharArray(),
                    Path.of(keys.get("trust-store")), keys.get("trust-store-password").toCharArray()));
        }
        String token = cluster.getString("token");
        return new ClusterCredentials(tls, token.isEmpty() ? Optional.empty() : Optional.of(token));
    }

    /** Whether Artery and gRPC between nodes run mutual TLS. */
    public boolean tls() {
        return tls.isPresent();
    }

    /** Whether gRPC calls between nodes carry a shared bearer token. */
    public boolean token() {
        return token.isPresent();
    }

    /**
     * Reads the key and trust stores now, so that a node with a missing store or a wrong password fails as it
     * starts rather than at its first connection.
     *
     * @throws IllegalArgumentException naming the store's key and file, without its password
     */
    public void check() {
        keyMaterial();
    }

    /**
     * Pekko's settings for Artery: {@code tls-tcp} with Pekko's {@code ConfigSSLEngineProvider} on these stores,
     * mutual authentication and hostname verification on; plain {@code tcp} without TLS.
     */
    Config arteryConfig() {
        if (tls.isEmpty()) {
            return ConfigFactory.parseMap(Map.of("pekko.remote.artery.transport", "tcp"));
        }
        Tls t = tls.get();
        String engine = "pekko.remote.artery.ssl.config-ssl-engine.";
        return ConfigFactory.parseMap(Map.of(
                "pekko.remote.artery.transport", "tls-tcp",
                "pekko.remote.artery.ssl.ssl-engine-provider",
                "org.apache.pekko.remote.artery.tcp.ConfigSSLEngineProvider",
                engine + "key-store", t.keyStore().toAbsolutePath().toString(),
                engine + "key-store-password", new String(t.keyStorePassword()),
                // a PKCS12 store protects its key with the store's password
                engine + "key-password", new String(t.keyStorePassword()),
                engine + "trust-store", t.trustStore().toAbsolutePath().toString(),
                engine + "trust-store-password", new String(t.trustStorePassword()),
                engine + "require-mutual-authentication", true,
                engine + "hostname-verification", true));
    }

    /** How a worker node's RolloutService listens: TLS that requires a client certificate of the cluster's CA. */
    ServerCredentials serverCredentials() {
        if (tls.isEmpty()) {
            return InsecureServerCredentials.create();
        }
        KeyMaterial m = keyMaterial();
        return TlsServerCredentials.newBuilder()
                .keyManager(m.keys().getKeyManagers())
                .trustManager(m.trust().getTrustManagers())
                .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                .build();
    }

    /** The check of the bearer token a worker node's RolloutService makes, if a token is configured. */
    Optional<ServerInterceptor> serverInterceptor() {
        return token.map(t -> new BearerTokenInterceptor(t, "rlhf.cluster.token"));
    }

    /**
     * A channel to a worker node's RolloutService at {@code host:port}: TLS with this node's certificate (the
     * server's must be of the cluster's CA and name {@code host}), and the bearer token on every call if one is
     * configured.
     */
    ManagedChannelBuilder<?> channelBuilder(String host, int port) {
        ChannelCredentials credentials = InsecureChannelCredentials.create();
        if (tls.isPresent()) {
            KeyMaterial m = keyMaterial();
            credentials = TlsChannelCredentials.newBuilder()
                    .keyManager(m.keys().getKeyManagers())
                    .trustManager(m.trust().getTrustManagers())
                    .build();
        }
        ManagedChannelBuilder<?> builder = Grpc.newChannelBuilderForAddress(host, port, credentials);
        token.ifPresent(t -> {
            Metadata headers = new Metadata();
            headers.put(BearerTokenInterceptor.AUTHORIZATION, BearerTokenInterceptor.SCHEME + t);
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        });
        return builder;
    }

    private synchronized KeyMaterial keyMaterial() {
        if (material == null && tls.isPresent()) {
            Tls t = tls.get();
            try {
                KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(load(t.keyStore(), t.keyStorePassword(), "key-store"), t.keyStorePassword());
                TrustManagerFactory trust = TrustManagerFactory.getInstance(
                        TrustManagerFactory.getDefaultAlgorithm());
                trust.init(load(t.trustStore(), t.trustStorePassword(), "trust-store"));
                material = new KeyMaterial(keys, trust);
            } catch (GeneralSecurityException e) {
                throw new IllegalArgumentException(TLS + "key-store " + t.keyStore() + " holds no usable key: "
                        + e.getMessage(), e);
            }
        }
        return material;
    }

    private static KeyStore load(Path file, char[] password, String key) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException(TLS + key + " " + file + " is not a file");
        }
        try {
            KeyStore store = KeyStore.getInstance(file.toFile(), password);
            if (store.size() == 0) {
                throw new IllegalArgumentException(TLS + key + " " + file + " is empty");
            }
            return store;
        } catch (IOException | GeneralSecurityException e) {
            // a wrong password shows as an IOException whose message does not hold the password
            throw new IllegalArgumentException(TLS + key + " " + file + " cannot be read with "
                    + TLS + key + "-password (" + e.getMessage() + ")", e);
        }
    }

    @Override
    public String toString() {
        return tls.map(Tls::toString).orElse("no tls") + (token.isPresent() ? ", token" : ", no token");
    }
}
