package dev.rlhf.run;

import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.actors.ExperimentCoordinator.Event;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.ChildFailed;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The root of a run's actor system. It spawns the coordinator (which spawns and supervises the roles) and the
 * recorder, passes every event to the recorder and to the handle's listeners, and completes the run's end once
 * the recorder has recorded everything before it. The coordinator or the recorder failing ends the run as failed
 * at once. The guardian itself never blocks: the recorder's synced writes run on Pekko's blocking dispatcher.
 *
 * <p>The guardian stays up after the end: the runner terminates the system, which first leaves the cluster
 * gracefully (a stopped guardian would stop the system's own actors, remoting included, at once).
 */
final class RunGuardian {
    private RunGuardian() {}

    /**
     * @param coordinator the coordinator, given the guardian as the listener of its events
     * @param ended completes with the coordinator's last event (exceptionally when the run failed)
     * @param started called with the coordinator once it runs (the handle attaches to it; cluster discovery starts)
     */
    static Behavior<Event> create(Function<ActorRef<Event>, Behavior<ExperimentCoordinator.Command>> coordinator,
            RunRecorder recorder, ExperimentHandle handle, CompletableFuture<Event> ended,
            StartHook started) {
        return Behaviors.setup(context -> {
            ActorRef<Event> recording = context.spawn(recording(recorder, ended), "run-recorder",
                    DispatcherSelector.blocking());
            context.watch(recording);
            ActorRef<ExperimentCoordinator.Command> running = context.spawn(coordinator.apply(context.getSelf()),
                    "coordinator");
            context.watch(running);
            started.started(context, running);
            running.tell(new ExperimentCoordinator.Start());
            return Behaviors.receive(Event.class)
                    .onMessage(Event.class, event -> {
                        recording.tell(event);
                        if (!isEnd(event)) {
                            handle.publish(event);
                        }
                        return Behaviors.same();
                    })
                    .onSignal(ChildFailed.class, failed -> {
                        String who = failed.getRef().equals(recording) ? "run recorder" : "experiment coordinator";
                        ended.completeExceptionally(new IllegalStateException(who + " failed: " + failed.getCause(),
                                failed.getCause()));
                        return Behaviors.same();
                    })
                    .onSignal(Terminated.class, stopped -> Behaviors.same()) // after its last event
                    .build();
        });
    }

    /** What the runner does once the coordinator is spawned, from inside the guardian. */
    @FunctionalInterface
    interface StartHook {
        void started(ActorContext<Event> context,
                ActorRef<ExperimentCoordinator.Command> coordinator);
    }

    /** Records events in order; at the end event, everything before it is recorded, and the run's end completes. */
    private static Behavior<Event> recording(RunRecorder recorder, CompletableFuture<Event> ended) {
        return Behaviors.receive(Event.class)
                .onMessage(Event.class, event -> {
                    if (event instanceof ExperimentCoordinator.Failed failed) {
                        ended.completeExceptionally(new IllegalStateException(failed.reason()));
                    } else if (isEnd(event)) {
                        ended.complete(event);
                    } else {
                        try {
                            recorder.record(event);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e); // fails the recorder, which ends the run
                        }
                    }
                    return Behaviors.same();
                })
                .build();
    }

    private static boolean isEnd(Event event) {
        return event instanceof ExperimentCoordinator.Finished || event instanceof ExperimentCoordinator.Stopped
                || event instanceof ExperimentCoordinator.Failed;
    }
}
