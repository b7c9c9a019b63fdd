package dev.rlhf.cli;

import com.typesafe.config.Config;
import dev.rlhf.labeling.LabelingUiServer;
import dev.rlhf.labeling.LabelingUiSettings;
import dev.rlhf.serve.PreferenceServer;
import dev.rlhf.serve.ServeSettings;
import dev.rlhf.store.PreferenceStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What serves people who label: PreferenceService over an open store, and the labeling UI, which reaches that
 * service over gRPC like any other client (here over loopback, in the same process). The store stays the caller's.
 */
final class LabelingStack implements AutoCloseable {
    private final PreferenceServer preferences;
    private final ManagedChannel channel;
    private final LabelingUiServer ui;

    private LabelingStack(PreferenceServer preferences, ManagedChannel channel, LabelingUiServer ui) {
        this.preferences = preferences;
        this.channel = channel;
        this.ui = ui;
    }

    /**
     * Starts PreferenceService on {@code host:grpcPort} and the UI on {@code host:uiPort} (0 picks a free port).
     *
     * @param runDir the run whose metrics the dashboard shows, if any
     * @throws IOException if PreferenceService cannot bind
     * @throws IllegalStateException if the UI cannot bind
     */
    static LabelingStack start(PreferenceStore store, Config config, String host, int uiPort, int grpcPort,
            Optional<Path> runDir) throws IOException {
        LabelingUiSettings uiSettings = LabelingUiSettings.fromConfig(config).withAddress(host, uiPort);
        PreferenceServer preferences = PreferenceServer.start(store, ServeSettings.fromConfig(config), host, grpcPort);
        ManagedChannel channel = null;
        try {
            // the UI dials the service the way a remote one would; a wildcard bind is reached over loopback
            channel = NettyChannelBuilder.forAddress(dialable(host), preferences.address().getPort())
                    .usePlaintext().build();
            return new LabelingStack(preferences, channel, LabelingUiServer.start(uiSettings, channel, runDir));
        } catch (RuntimeException e) {
            if (channel != null) {
                channel.shutdownNow();
            }
            preferences.close();
            throw e;
        }
    }

    private static String dialable(String host) {
        return host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
    }

    /** The annotator page, {@code http://HOST:PORT/}. */
    String uiUrl() {
        return ui.url();
    }

    InetSocketAddress grpcAddress() {
        return preferences.address();
    }

    /** Stops the UI, then its channel, then PreferenceService. */
    @Override
    public void close() {
        ui.close();
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            preferences.close();
        }
    }
}
