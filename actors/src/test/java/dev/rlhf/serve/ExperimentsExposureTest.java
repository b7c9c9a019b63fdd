package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** ExperimentService runs clients' experiments: only with the bearer token, and with TLS beyond loopback. */
class ExperimentsExposureTest {

    @ParameterizedTest(name = "host {0}, token {1}, tls {2}")
    @CsvSource(textBlock = """
            127.0.0.1, secret, false, ok
            localhost, secret, false, ok
            ::1,       secret, false, ok
            127.0.0.1, '',     false, auth
            0.0.0.0,   secret, false, tls
            10.1.2.3,  secret, false, tls
            0.0.0.0,   secret, true,  ok
            0.0.0.0,   '',     true,  auth
            """)
    void experimentServiceNeedsTheTokenAndTlsBeyondLoopback(String host, String token, boolean tls, String outcome) {
        String serve = "rlhf.serve { host = \"" + host + "\", auth-token = \"" + token + "\" }\n"
                + (tls ? "rlhf.serve { tls-cert-chain = /etc/rlhf/cert.pem, tls-private-key = /etc/rlhf/key.pem }" : "");
        Config config = ConfigFactory.parseString(serve).withFallback(ConfigFactory.defaultReference());
        ServeSettings settings = ServeSettings.fromConfig(config);

        switch (outcome) {
            case "ok" -> assertDoesNotThrow(() -> PolicyServer.checkExperimentsAllowed(settings));
            case "auth" -> assertEquals(PolicyServer.EXPERIMENTS_NEED_AUTH, assertThrows(IllegalArgumentException.class,
                    () -> PolicyServer.checkExperimentsAllowed(settings)).getMessage());
            default -> assertEquals(PolicyServer.EXPERIMENTS_NEED_TLS, assertThrows(IllegalArgumentException.class,
                    () -> PolicyServer.checkExperimentsAllowed(settings)).getMessage());
        }
    }
}
