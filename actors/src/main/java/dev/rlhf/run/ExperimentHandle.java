package dev.rlhf.run;

import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import dev.rlhf.actors.LearnerActor;
import dev.rlhf.store.PreferenceStore;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * A running experiment, as {@link ExperimentRunner#start} returns it: its outcome, its coordinator's events as
 * they happen, the two controls a run offers, stop and checkpoint-now (both take effect at the next iteration
 * boundary), and its open preference store, for serving it to people while the run goes.
 */
public final class ExperimentHandle {
    private final CompletableFuture<ExperimentRunner.Outcome> outcome = new CompletableFuture<>();
    private final CompletableFuture<ActorRef<ExperimentCoordinator.Command>> coordinator = new CompletableFuture<>();
    private final CompletableFuture<PreferenceStore> store = new CompletableFuture<>();
    private final List<Consumer<Event>> listeners = new CopyOnWriteArrayList<>();
    private final Duration checkpointTimeout;
    private volatile ActorSystem<?> system;

    /** @param checkpointTimeout how long {@link #checkpointNow} waits (rlhf.experiment.timeouts.checkpoint-now) */
    ExperimentHandle(Duration checkpointTimeout) {
        this.checkpointTimeout = checkpointTimeout;
    }

    /** Completes with how the run ended, or exceptionally with why it failed. */
    public CompletableFuture<ExperimentRunner.Outcome> outcome() {
        return outcome;
    }

    /** Waits for the outcome; rethrows a failure's own cause. */
    public ExperimentRunner.Outcome await() throws Exception {
        try {
            return outcome.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /**
     * Calls {@code listener} with every event the coordinator reports from now on (iterations, evaluations,
     * reward-model versions, the end), on an actor thread: it must return quickly.
     */
    public void addListener(Consumer<Event> listener) {
        listeners.add(listener);
    }

    public void removeListener(Consumer<Event> listener) {
        listeners.remove(listener);
    }

    /**
     * The run's preference store ({@code preferences/} in its run directory), as the run opened it: completes once
     * it is open, before the coordinator starts, or exceptionally with why the run failed before that. The run
     * owns it: a caller may serve it (PreferenceService and the labeling UI, for {@code rlhf.annotators.mode =
     * human} or {@code mixed}) but must not close it; RocksDB allows one opener, so this is the only way to reach the
     * store while the run goes. The run closes it when it ends, just before {@link #outcome()} completes; from then
     * on its calls fail with {@link dev.rlhf.store.StoreUnavailableException}, so a server over it should stop once
     * the outcome is in.
     */
    public CompletionStage<PreferenceStore> preferenceStore() {
        return store;
    }

    /** Asks the run to stop at the next iteration boundary with a checkpoint; the outcome then says where. */
    public void stop() {
        coordinator.thenAccept(ref -> ref.tell(new ExperimentCoordinator.Stop()));
    }

    /**
     * Asks for a checkpoint at the next iteration boundary; completes once it is on disk, or exceptionally with why
     * it was not written.
     */
    public CompletionStage<LearnerActor.CheckpointSaved> checkpointNow() {
        if (outcome.isDone()) {
            return CompletableFuture.failedFuture(new IllegalStateException("the run has ended"));
        }
        return coordinator.thenCompose(ref -> AskPattern.askWithStatus(ref, ExperimentCoordinator.CheckpointNow::new,
                checkpointTimeout, system.scheduler()));
    }

    void storeOpened(PreferenceStore opened) {
        store.complete(opened);
    }

    void attach(ActorRef<ExperimentCoordinator.Command> ref, ActorSystem<?> actorSystem) {
        system = actorSystem;
        coordinator.complete(ref);
    }

    void publish(Event event) {
        listeners.forEach(listener -> listener.accept(event));
    }

    void complete(ExperimentRunner.Outcome result) {
        outcome.complete(result);
    }

    void fail(Throwable cause) {
        store.completeExceptionally(cause);
        outcome.completeExceptionally(cause);
        coordinator.completeExceptionally(cause);
    }
}
