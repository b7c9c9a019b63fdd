package dev.rlhf.labeling;

import com.typesafe.config.Config;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The labeling UI's settings, read once from {@code rlhf.labeling-ui} (see its {@code reference.conf}).
 *
 * @param host address the HTTP server binds to
 * @param port TCP port; 0 picks a free one
 * @param sessionIdleTimeout a session unused this long is forgotten
 * @param signInAttempts sign-in attempts one client address may make per {@code signInWindow}
 * @param signInWindow the window of {@code signInAttempts}
 * @param guidelinesMarkdown the guidelines shown to annotators, in Markdown
 * @param newTaskPollInterval how often the page asks for work while the queue is empty
 * @param maxRationaleBytes longest rationale accepted, in UTF-8 bytes
 * @param maxRequestBytes largest request body accepted
 * @param callTimeout deadline of each gRPC call to the store
 * @param metricsPollInterval how often the dashboard stream looks for new metrics
 * @param secureCookie whether the session cookie is marked Secure (served over TLS)
 */
public record LabelingUiSettings(
        String host,
        int port,
        Duration sessionIdleTimeout,
        int signInAttempts,
        Duration signInWindow,
        String guidelinesMarkdown,
        Duration newTaskPollInterval,
        int maxRationaleBytes,
        int maxRequestBytes,
        Duration callTimeout,
        Duration metricsPollInterval,
        boolean secureCookie) {

    /** Where the settings live in the configuration. */
    public static final String CONFIG_PATH = "rlhf.labeling-ui";

    public LabelingUiSettings {
        require(host != null && !host.isBlank(), "host must not be empty");
        require(port >= 0 && port <= 65535, "port must be 0..65535 but was " + port);
        requirePositive(sessionIdleTimeout, "session-idle-timeout");
        require(signInAttempts >= 1, "sign-in-attempts must be at least 1 but was " + signInAttempts);
        requirePositive(signInWindow, "sign-in-window");
        require(guidelinesMarkdown != null, "guidelines must not be null");
        requirePositive(newTaskPollInterval, "new-task-poll-interval");
        require(maxRationaleBytes >= 0, "max-rationale-bytes must not be negative but was " + maxRationaleBytes);
        require(maxRequestBytes >= 1024, "max-request-bytes must be at least 1 KiB but was " + maxRequestBytes);
        requirePositive(callTimeout, "call-timeout");
        requirePositive(metricsPollInterval, "metrics-poll-interval");
    }

    /**
     * Reads {@code rlhf.labeling-ui} of a configuration that includes this module's {@code reference.conf}.
     *
     * @throws IllegalArgumentException for a value out of range
     * @throws UncheckedIOException when guidelines-file cannot be read
     */
    public static LabelingUiSettings fromConfig(Config root) {
        Config c = root.getConfig(CONFIG_PATH);
        String guidelines = c.getString("guidelines");
        String file = c.getString("guidelines-file");
        if (!file.isBlank()) {
            try {
                guidelines = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read rlhf.labeling-ui.guidelines-file " + file, e);
            }
        }
        return new LabelingUiSettings(c.getString("host"), c.getInt("port"), c.getDuration("session-idle-timeout"),
                c.getInt("sign-in-attempts"), c.getDuration("sign-in-window"), guidelines,
                c.getDuration("new-task-poll-interval"), c.getInt("max-rationale-bytes"),
                Math.toIntExact(c.getBytes("max-request-bytes")), c.getDuration("call-timeout"),
                c.getDuration("metrics-poll-interval"), c.getBoolean("secure-cookie"));
    }

    /** The same settings bound to another address (tests and the launcher pick port 0). */
    public LabelingUiSettings withAddress(String newHost, int newPort) {
        return new LabelingUiSettings(newHost, newPort, sessionIdleTimeout, signInAttempts, signInWindow,
                guidelinesMarkdown, newTaskPollInterval, maxRationaleBytes, maxRequestBytes, callTimeout,
                metricsPollInterval, secureCookie);
    }

    /** The same settings with other guidelines. */
    public LabelingUiSettings withGuidelines(String markdown) {
        return new LabelingUiSettings(host, port, sessionIdleTimeout, signInAttempts, signInWindow, markdown,
                newTaskPollInterval, maxRationaleBytes, maxRequestBytes, callTimeout, metricsPollInterval,
                secureCookie);
    }

    private static void requirePositive(Duration d, String key) {
        require(d != null && !d.isNegative() && !d.isZero(), key + " must be positive but was " + d);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
