package dev.rlhf.cluster;

import com.typesafe.config.Config;
import dev.rlhf.actors.PreferenceCollector;
import dev.rlhf.experiment.PreferenceLoop;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A preferences node's stores: one RocksDB preference store per run, under the store root, each with its own
 * {@link PreferenceCollector} and simulated panel (built from the node's configuration, which must be the
 * coordinator's for the panel to judge as it would locally), opened the first time a run is named and kept open
 * until the node stops. The node is each store's only writer.
 */
final class RunStores implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RunStores.class);
    private static final String TENSOR_DISPATCHER = "rlhf.tensor-dispatcher";

    private record Opened(PreferenceStore store, ActorRef<PreferenceCollector.Command> collector) {}

    private final Config config;
    private final Path root;
    private final ActorSystem<?> system;
    private final Map<String, Opened> runs = new LinkedHashMap<>();
    /** Stores opened in this JVM: collector names stay unique in a system that outlives the stores (a test's). */
    private static final AtomicInteger OPENS = new AtomicInteger();

    /** @param root where each run's store is made, as a directory named as the run */
    RunStores(Config config, Path root, ActorSystem<?> system) {
        this.config = config;
        this.root = root;
        this.system = system;
    }

    /** The collector of {@code run}, its store opened (or made) the first time. */
    synchronized ActorRef<PreferenceCollector.Command> collector(String run) {
        Opened opened = runs.get(run);
        if (opened == null) {
            PreferenceStore store;
            try {
                store = PreferenceStore.open(PreferenceStoreSettings.fromConfig(config).withPath(root.resolve(run)));
            } catch (RuntimeException e) {
                throw Status.UNAVAILABLE.withDescription("the store of run " + run + " cannot be opened: "
                        + e.getMessage()).withCause(e).asRuntimeException();
            }
            ActorRef<PreferenceCollector.Command> collector;
            try {
                collector = system.systemActorOf(
                        Behaviors.supervise(PreferenceCollector.create(new PreferenceLoop(store,
                                        new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(config)))))
                                .onFailure(SupervisorStrategy.restart()),
                        "preference-collector-" + run + "-" + OPENS.getAndIncrement(),
                        DispatcherSelector.fromConfig(TENSOR_DISPATCHER));
            } catch (RuntimeException e) {
                store.close();
                throw e;
            }
            opened = new Opened(store, collector);
            runs.put(run, opened);
            LOG.info("opened the preference store of run {} at {}", run, root.resolve(run));
        }
        return opened.collector();
    }

    /** Stops the collectors and closes every store (a node's actor system has stopped them already). */
    @Override
    public synchronized void close() {
        runs.values().forEach(opened -> {
            Adapter.toClassic(system).stop(Adapter.toClassic(opened.collector()));
            opened.store().close();
        });
        runs.clear();
    }
}
