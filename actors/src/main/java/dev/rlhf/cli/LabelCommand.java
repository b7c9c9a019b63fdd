package dev.rlhf.cli;

import dev.rlhf.labeling.LabelingUiSettings;
import dev.rlhf.store.PreferenceStore;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rlhf label}: serves the labeling UI and PreferenceService over a preference store until SIGTERM or SIGINT.
 * The first start of a store without an admin makes one and prints their token, once.
 */
@Command(name = "label", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf label --store data/preferences",
            "  ./rlhf label --store runs/q1/preferences --run-dir runs/q1 --port 0"},
        description = "Serve the labeling UI (annotator and admin pages, training dashboard) and PreferenceService"
                + " over a preference store until SIGTERM or SIGINT. Prints `labeling ui listening on"
                + " http://HOST:PORT/` once it accepts requests.")
final class LabelCommand implements Callable<Integer> {
    /** The name the first admin gets (or the first free {@code admin-N}). */
    private static final String FIRST_ADMIN = "admin";

    @Mixin private StoreOption store;

    @Option(names = "--host", description = "Address to bind (default: rlhf.labeling-ui.host, 127.0.0.1).")
    private String host;

    @Option(names = "--port", description = "The UI's TCP port; 0 picks a free one (default: rlhf.labeling-ui.port).")
    private Integer port;

    @Option(names = "--grpc-port", description = "PreferenceService's TCP port; 0 (the default) picks a free one.")
    private int grpcPort;

    @Option(names = "--run-dir", paramLabel = "DIR", description = "The run whose metrics and reward models the"
            + " dashboard shows.")
    private Path runDir;

    @Override
    public Integer call() throws Exception {
        CliContext context = CliContext.load();
        LabelingUiSettings configured = LabelingUiSettings.fromConfig(context.config());
        String boundHost = host != null ? host : configured.host();
        int uiPort = port != null ? port : configured.port();
        CountDownLatch stopRequested = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stopRequested.countDown();
            try {
                closed.await(); // the UI, the service and the store close below, acknowledged judgments committed
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "label-shutdown"));
        try (PreferenceStore opened = store.open(context, true)) {
            Optional<String> adminToken = firstAdmin(opened);
            try (LabelingStack stack = LabelingStack.start(opened, context.config(), boundHost, uiPort, grpcPort,
                    Optional.ofNullable(runDir))) {
                adminToken.ifPresent(token -> System.out.println("admin token: " + token));
                System.out.println("grpc listening on " + boundHost + ":" + stack.grpcAddress().getPort());
                System.out.println("labeling ui listening on " + stack.uiUrl());
                System.out.flush();
                stopRequested.await();
            }
        } finally {
            closed.countDown();
        }
        return 0;
    }

    /** Makes the store's first admin when it has none, and returns their token. */
    static Optional<String> firstAdmin(PreferenceStore store) {
        if (store.hasAdmin()) {
            return Optional.empty();
        }
        Set<String> taken = store.annotators().stream().map(a -> a.getName()).collect(Collectors.toSet());
        String name = FIRST_ADMIN;
        for (int n = 2; taken.contains(name); n++) {
            name = FIRST_ADMIN + "-" + n;
        }
        return Optional.of(store.addAnnotator(name, true).join());
    }
}
