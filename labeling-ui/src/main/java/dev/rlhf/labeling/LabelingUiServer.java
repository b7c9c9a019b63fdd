package dev.rlhf.labeling;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.Channel;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The labeling UI's HTTP server: the annotator page at {@code /}, the admin page at {@code /admin}, their JSON API
 * under {@code /api/} and the training dashboard's event stream. It reaches the preference store only through
 * {@code PreferenceService} over the given gRPC channel, with the signed-in user's token on every call, so it
 * may run beside the store or on another machine. Runs its own actor system; {@link #close()} stops it.
 */
public final class LabelingUiServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(LabelingUiServer.class);
    private static final Duration STOP_GRACE = Duration.ofSeconds(3);

    private final ActorSystem system;
    private final ServerBinding binding;

    private LabelingUiServer(ActorSystem system, ServerBinding binding) {
        this.system = system;
        this.binding = binding;
    }

    /**
     * Binds the UI and answers requests until closed.
     *
     * @param settings address, sessions, limits and guidelines
     * @param preferenceChannel a channel to a PreferenceService (the caller owns and closes it)
     * @param runDir the run directory whose {@code metrics.jsonl} and reward models the dashboard shows; empty
     *     when no experiment runs (the dashboard then says so)
     * @return the bound server
     * @throws IllegalStateException when the address cannot be bound
     */
    public static LabelingUiServer start(LabelingUiSettings settings, Channel preferenceChannel,
            Optional<Path> runDir) {
        Config config = ConfigFactory.parseString(String.join("\n",
                        "pekko.http.server.remote-address-attribute = on",
                        "pekko.http.server.server-header = \"\"",
                        "pekko.http.server.parsing.max-content-length = " + settings.maxRequestBytes(),
                        "pekko.loglevel = WARNING",
                        "pekko.stdout-loglevel = WARNING",
                        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
                        "pekko.coordinated-shutdown.terminate-actor-system = on"))
                .withFallback(ConfigFactory.load());
        ActorSystem system = ActorSystem.create("labeling-ui", config);
        try {
            Materializer materializer = Materializer.matFromSystem(system);
            Executor blocking = system.dispatchers().lookup("pekko.actor.default-blocking-io-dispatcher");
            Clock clock = Clock.systemUTC();
            HttpApi api = new HttpApi(settings, preferenceChannel,
                    new SessionStore(settings.sessionIdleTimeout(), clock),
                    new SignInRateLimiter(settings.signInAttempts(), settings.signInWindow(), clock),
                    new StaticAssets(), runDir, materializer, blocking);
            ServerBinding binding = Http.get(system).newServerAt(settings.host(), settings.port())
                    .bind(api::handle).toCompletableFuture().join();
            log.info("labeling ui listening on http://{}:{}/", settings.host(), binding.localAddress().getPort());
            return new LabelingUiServer(system, binding);
        } catch (CompletionException | IllegalStateException e) {
            system.terminate();
            throw new IllegalStateException("cannot bind the labeling ui to " + settings.host() + ":"
                    + settings.port() + ": " + GrpcErrors.unwrap(e).getMessage(), GrpcErrors.unwrap(e));
        }
    }

    /** The address the server listens on (the real port when 0 was asked). */
    public InetSocketAddress address() {
        return binding.localAddress();
    }

    /** The annotator page's address, {@code http://HOST:PORT/}. */
    public String url() {
        InetSocketAddress a = address();
        String host = a.getHostString();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + a.getPort() + "/";
    }

    /** Stops accepting requests, ends open ones (event streams included) and stops the actor system. */
    @Override
    public void close() {
        try {
            binding.terminate(STOP_GRACE).toCompletableFuture().get(STOP_GRACE.toMillis() * 2, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.debug("labeling ui stopped abruptly: {}", e.toString());
        } finally {
            system.terminate();
            try {
                system.getWhenTerminated().toCompletableFuture().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                log.debug("labeling ui actor system slow to stop: {}", e.toString());
            }
        }
    }
}
