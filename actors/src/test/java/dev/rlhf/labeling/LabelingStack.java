package dev.rlhf.labeling;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.serve.PreferenceServer;
import dev.rlhf.serve.ServeSettings;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * What {@code rlhf label} runs, on loopback: a preference store in a temporary directory, a PreferenceServer over it
 * on 127.0.0.1:0, and the labeling UI on 127.0.0.1:0 talking to that server over gRPC.
 */
final class LabelingStack implements AutoCloseable {
    static final String SERVER_TOKEN = "server-token-for-tests";

    final PreferenceStore store;
    final PreferenceServer preferences;
    final ManagedChannel channel;
    final LabelingUiServer ui;

    LabelingStack(Path dir, int annotationsPerTask, Optional<Path> runDir) throws IOException {
        this(dir, annotationsPerTask, runDir, "");
    }

    /** As above, with {@code uiSettings} (HOCON inside {@code rlhf.labeling-ui}) over the defaults. */
    LabelingStack(Path dir, int annotationsPerTask, Optional<Path> runDir, String uiSettings) throws IOException {
        store = PreferenceStore.open(new PreferenceStoreSettings(dir.resolve("db"), annotationsPerTask, 4096, 3, 64,
                1024, Duration.ofMinutes(30)));
        ServeSettings serve = ServeSettings.fromConfig(ConfigFactory.load()).withAuthToken(SERVER_TOKEN);
        preferences = PreferenceServer.start(store, serve, "127.0.0.1", 0);
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", preferences.address().getPort(),
                InsecureChannelCredentials.create()).build();
        LabelingUiSettings settings = LabelingUiSettings.fromConfig(ConfigFactory.parseString(
                "rlhf.labeling-ui { port = 0, new-task-poll-interval = 500ms, metrics-poll-interval = 200ms }\n"
                        + "rlhf.labeling-ui { " + uiSettings + " }")
                .withFallback(ConfigFactory.load()));
        ui = LabelingUiServer.start(settings, channel, runDir);
    }

    /** Registers an annotator; returns their token. */
    String annotator(String name, boolean admin) {
        return store.addAnnotator(name, admin).join();
    }

    /** Adds a prompt and a two-candidate task on it; returns the task id. */
    String task(String taskId, String prompt, String first, String second, int annotationsNeeded) {
        store.addPrompt(Prompt.newBuilder().setPromptId("p-" + taskId).setText(prompt).build()).join();
        store.addTask(ComparisonTask.newBuilder().setTaskId(taskId).setPromptId("p-" + taskId)
                .addCandidates(Candidate.newBuilder().setText(first))
                .addCandidates(Candidate.newBuilder().setText(second))
                .setAnnotationsNeeded(annotationsNeeded).build()).join();
        return taskId;
    }

    /** Every judgment of an annotator that was not taken back, in log order. */
    List<Judgment> standingJudgments(String annotator) {
        return store.judgmentsSince(0, 10_000).stream()
                .filter(j -> j.getSubmission().getAnnotatorId().equals(annotator))
                .filter(j -> store.retraction(j.getSubmission().getJudgmentId()).isEmpty())
                .toList();
    }

    /** Every judgment of an annotator, taken back or not. */
    List<Judgment> allJudgments(String annotator) {
        return store.judgmentsSince(0, 10_000).stream()
                .filter(j -> j.getSubmission().getAnnotatorId().equals(annotator)).toList();
    }

    @Override
    public void close() throws InterruptedException {
        ui.close();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        preferences.close();
        store.close();
    }
}
