package dev.rlhf.cli;

import ai.djl.ndarray.NDManager;
import dev.rlhf.serve.NettyTransport;
import dev.rlhf.serve.PolicyServer;
import dev.rlhf.serve.ServeSettings;
import dev.rlhf.serve.ServedModel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf serve}: serves a policy (and the preference store, when configured) over gRPC until stopped. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve PolicyService over gRPC (plus PreferenceService when rlhf.serve.preference-store is set)"
                + " until SIGTERM or SIGINT.")
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", description = "Checkpoint directory (default: the embedded policy, built if missing).")
    private Path checkpoint;

    @Option(names = "--port", description = "TCP port; 0 picks a free one (default: rlhf.serve.port).")
    private Integer port;

    @Override
    public Integer call() throws Exception {
        CliContext context = CliContext.load();
        ServeSettings settings = ServeSettings.fromConfig(context.config());
        if (port != null) {
            settings = settings.withPort(port);
        }
        Path dir = checkpoint != null ? checkpoint : context.embeddedModelDir();
        if (checkpoint == null) {
            BootstrapCommand.ensureBuilt(context, dir);
        }
        Optional<PreferenceStore> store = settings.preferenceStore().map(path ->
                PreferenceStore.open(PreferenceStoreSettings.fromConfig(context.config()).withPath(path)));
        CountDownLatch closed = new CountDownLatch(1);
        try (NDManager manager = context.newManager(); ServedModel model = ServedModel.load(dir, manager)) {
            PolicyServer server = new PolicyServer(NettyTransport.builder(settings), model, settings, store).start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                // stderr, since the logger may have been reset by its own shutdown hook
                System.err.println("*** shutting down the gRPC server since the JVM is shutting down");
                try {
                    server.stop();
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "serve-shutdown"));
            System.out.println("grpc listening on " + settings.host() + ":" + server.port());
            System.out.flush();
            server.blockUntilShutdown();
        } finally {
            store.ifPresent(PreferenceStore::close);
            closed.countDown();
        }
        return 0;
    }
}
