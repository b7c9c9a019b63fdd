package dev.rlhf.serve;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Settings of the gRPC server, read once from {@code rlhf.serve} (documented in the actors module's
 * {@code reference.conf}).
 *
 * @param host address to bind
 * @param port TCP port; 0 picks a free one
 * @param maxBatch most sequences decoded together
 * @param maxQueued most sequences waiting for a batch row
 * @param maxNewTokensCap largest max_new_tokens a request may ask for
 * @param nCap largest n a request may ask for
 * @param maxTextBytes most bytes of UTF-8 in a text the server tokenizes (a prompt's text, Tokenize's text)
 * @param maxStopStrings most stop strings a request may send
 * @param maxStopStringBytes most bytes of UTF-8 in one stop string
 * @param maxInboundMessageBytes largest request message accepted
 * @param keepAliveTime interval of server keep-alive pings
 * @param keepAliveTimeout how long a ping may go unanswered
 * @param permitKeepAliveTime most frequent client pings tolerated
 * @param authToken bearer token calls must carry; empty when auth is off
 * @param tlsCertChain PEM certificate chain, when TLS is on
 * @param tlsPrivateKey PEM private key, when TLS is on
 * @param preferenceStore directory of the preference store to serve, if any
 * @param shutdownGrace how long a graceful shutdown waits for calls in flight
 * @param annotatorTokens annotator id to bearer token; a PreferenceService call bearing one acts for its owner (see
 *     {@link AnnotatorTokenInterceptor}, which also accepts {@code authToken} and the store's registered tokens)
 */
public record ServeSettings(
        String host,
        int port,
        int maxBatch,
        int maxQueued,
        int maxNewTokensCap,
        int nCap,
        int maxTextBytes,
        int maxStopStrings,
        int maxStopStringBytes,
        int maxInboundMessageBytes,
        Duration keepAliveTime,
        Duration keepAliveTimeout,
        Duration permitKeepAliveTime,
        String authToken,
        Optional<Path> tlsCertChain,
        Optional<Path> tlsPrivateKey,
        Optional<Path> preferenceStore,
        Duration shutdownGrace,
        Map<String, String> annotatorTokens) {

    /** The configuration section these settings are read from. */
    public static final String CONFIG_PATH = "rlhf.serve";

    /** @throws IllegalArgumentException naming the setting that is out of range */
    public ServeSettings {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(CONFIG_PATH + ".port must be in [0, 65535] but was: " + port);
        }
        requirePositive(maxBatch, "max-batch");
        requirePositive(maxQueued, "max-queued");
        requirePositive(maxNewTokensCap, "max-new-tokens-cap");
        requirePositive(nCap, "n-cap");
        requirePositive(maxTextBytes, "max-text-bytes");
        requirePositive(maxStopStrings, "max-stop-strings");
        requirePositive(maxStopStringBytes, "max-stop-string-bytes");
        requirePositive(maxInboundMessageBytes, "max-inbound-message-bytes");
        if (tlsCertChain.isPresent() != tlsPrivateKey.isPresent()) {
            throw new IllegalArgumentException(
                    CONFIG_PATH + ".tls-cert-chain and tls-private-key must be set together");
        }
        annotatorTokens = Map.copyOf(annotatorTokens);
        Set<String> tokens = new HashSet<>();
        for (Map.Entry<String, String> annotator : new TreeMap<>(annotatorTokens).entrySet()) {
            String key = CONFIG_PATH + ".annotator-tokens." + annotator.getKey();
            if (annotator.getKey().isEmpty() || annotator.getKey().indexOf('\0') >= 0) {
                throw new IllegalArgumentException(CONFIG_PATH + ".annotator-tokens: an annotator id must be "
                        + "non-empty and free of NUL");
            }
            if (annotator.getValue().isEmpty()) {
                throw new IllegalArgumentException(key + " must not be empty");
            }
            if (annotator.getValue().equals(authToken) || !tokens.add(annotator.getValue())) {
                // messages never repeat a token
                throw new IllegalArgumentException(key + " must differ from auth-token and every other annotator's");
            }
        }
    }

    /**
     * Reads {@code rlhf.serve} from {@code config}.
     *
     * @throws com.typesafe.config.ConfigException if a key is missing or has the wrong type
     * @throws IllegalArgumentException if a value is out of range
     */
    public static ServeSettings fromConfig(Config config) {
        Config c = config.getConfig(CONFIG_PATH);
        return new ServeSettings(
                c.getString("host"),
                c.getInt("port"),
                c.getInt("max-batch"),
                c.getInt("max-queued"),
                c.getInt("max-new-tokens-cap"),
                c.getInt("n-cap"),
                c.getBytes("max-text-bytes").intValue(),
                c.getInt("max-stop-strings"),
                c.getBytes("max-stop-string-bytes").intValue(),
                c.getBytes("max-inbound-message-bytes").intValue(),
                c.getDuration("keep-alive-time"),
                c.getDuration("keep-alive-timeout"),
                c.getDuration("permit-keep-alive-time"),
                c.getString("auth-token"),
                optionalPath(c, "tls-cert-chain"),
                optionalPath(c, "tls-private-key"),
                optionalPath(c, "preference-store"),
                c.getDuration("shutdown-grace"),
                annotatorTokens(c));
    }

    /** These settings bound to {@code newPort}. */
    public ServeSettings withPort(int newPort) {
        return new ServeSettings(host, newPort, maxBatch, maxQueued, maxNewTokensCap, nCap, maxTextBytes,
                maxStopStrings, maxStopStringBytes, maxInboundMessageBytes, keepAliveTime, keepAliveTimeout,
                permitKeepAliveTime, authToken, tlsCertChain, tlsPrivateKey, preferenceStore, shutdownGrace,
                annotatorTokens);
    }

    /** These settings bound to {@code newHost}:{@code newPort}. */
    public ServeSettings withAddress(String newHost, int newPort) {
        return new ServeSettings(newHost, newPort, maxBatch, maxQueued, maxNewTokensCap, nCap, maxTextBytes,
                maxStopStrings, maxStopStringBytes, maxInboundMessageBytes, keepAliveTime, keepAliveTimeout,
                permitKeepAliveTime, authToken, tlsCertChain, tlsPrivateKey, preferenceStore, shutdownGrace,
                annotatorTokens);
    }

    /** These settings requiring {@code token} on every call but health checks; empty turns auth off. */
    public ServeSettings withAuthToken(String token) {
        return new ServeSettings(host, port, maxBatch, maxQueued, maxNewTokensCap, nCap, maxTextBytes,
                maxStopStrings, maxStopStringBytes, maxInboundMessageBytes, keepAliveTime, keepAliveTimeout,
                permitKeepAliveTime, token, tlsCertChain, tlsPrivateKey, preferenceStore, shutdownGrace,
                annotatorTokens);
    }

    /** These settings with PreferenceService calls acting for the owners of {@code tokens} (id to token). */
    public ServeSettings withAnnotatorTokens(Map<String, String> tokens) {
        return new ServeSettings(host, port, maxBatch, maxQueued, maxNewTokensCap, nCap, maxTextBytes,
                maxStopStrings, maxStopStringBytes, maxInboundMessageBytes, keepAliveTime, keepAliveTimeout,
                permitKeepAliveTime, authToken, tlsCertChain, tlsPrivateKey, preferenceStore, shutdownGrace, tokens);
    }

    /** Every setting, the tokens left out: whether auth is on, and whose annotator tokens there are. */
    @Override
    public String toString() {
        return "ServeSettings[host=" + host + ", port=" + port + ", maxBatch=" + maxBatch + ", maxQueued=" + maxQueued
                + ", maxNewTokensCap=" + maxNewTokensCap + ", nCap=" + nCap + ", maxTextBytes=" + maxTextBytes
                + ", maxStopStrings=" + maxStopStrings + ", maxStopStringBytes=" + maxStopStringBytes
                + ", maxInboundMessageBytes=" + maxInboundMessageBytes + ", keepAliveTime=" + keepAliveTime
                + ", keepAliveTimeout=" + keepAliveTimeout + ", permitKeepAliveTime=" + permitKeepAliveTime
                + ", authRequired=" + authRequired() + ", tlsCertChain=" + tlsCertChain + ", tlsPrivateKey="
                + tlsPrivateKey + ", preferenceStore=" + preferenceStore + ", shutdownGrace=" + shutdownGrace
                + ", annotatorsWithTokens=" + new TreeMap<>(annotatorTokens).keySet() + "]";
    }

    /** Whether calls must carry {@link #authToken()}. */
    public boolean authRequired() {
        return !authToken.isEmpty();
    }

    /** {@code annotator-tokens} as id to token; each key of the object is one annotator id, quoted or not. */
    private static Map<String, String> annotatorTokens(Config c) {
        ConfigObject object = c.getObject("annotator-tokens");
        Map<String, String> tokens = new TreeMap<>();
        for (Map.Entry<String, ConfigValue> annotator : object.entrySet()) {
            if (annotator.getValue().valueType() != ConfigValueType.STRING) {
                throw new IllegalArgumentException(CONFIG_PATH + ".annotator-tokens." + annotator.getKey()
                        + " must be a string (the annotator's token)");
            }
            tokens.put(annotator.getKey(), (String) annotator.getValue().unwrapped());
        }
        return tokens;
    }

    private static Optional<Path> optionalPath(Config c, String key) {
        String value = c.getString(key);
        return value.isEmpty() ? Optional.empty() : Optional.of(Path.of(value));
    }

    private static void requirePositive(int value, String key) {
        if (value <= 0) {
            throw new IllegalArgumentException(CONFIG_PATH + "." + key + " must be positive but was: " + value);
        }
    }
}
