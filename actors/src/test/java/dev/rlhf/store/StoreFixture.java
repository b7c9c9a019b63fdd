package dev.rlhf.store;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.proto.v1.SamplingParams;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/** Small records and settings the store tests build their data from. */
final class StoreFixture {

    static final int ANNOTATIONS_PER_TASK = 2;
    static final int RATIONALE_MAX_BYTES = 64;
    /** How long an assignment holds, in the store tests' settings. */
    static final Duration LEASE = Duration.ofMinutes(30);

    private StoreFixture() {}

    static PreferenceStoreSettings settings(Path dir) {
        return new PreferenceStoreSettings(dir.resolve("db"), ANNOTATIONS_PER_TASK, RATIONALE_MAX_BYTES, 3, 256, 4096,
                LEASE);
    }

    static Prompt prompt(String id, String text) {
        return Prompt.newBuilder().setPromptId(id).setText(text).build();
    }

    static ComparisonTask task(String id, String promptId, String... candidateTexts) {
        ComparisonTask.Builder task = ComparisonTask.newBuilder().setTaskId(id).setPromptId(promptId);
        for (int i = 0; i < candidateTexts.length; i++) {
            task.addCandidates(Candidate.newBuilder()
                    .setText(candidateTexts[i])
                    .setPolicyVersion("policy-v" + i)
                    .setSampling(SamplingParams.newBuilder().setTemperature(0.7f).setTopP(0.9f).setSeed(i)));
        }
        return task.build();
    }

    static JudgmentSubmission judgment(String id, String taskId, String annotatorId, Choice choice) {
        return JudgmentSubmission.newBuilder()
                .setJudgmentId(id)
                .setTaskId(taskId)
                .setAnnotatorId(annotatorId)
                .setChoice(choice)
                .build();
    }

    /** Opens a prompt "p" and tasks "t1".."tN" with two candidates each. */
    static void addTasks(PreferenceStore store, int count) {
        store.addPrompt(prompt("p", "Write a haiku about rain.")).join();
        for (int i = 1; i <= count; i++) {
            store.addTask(task("t" + i, "p", "Soft rain " + i, "Loud rain " + i)).join();
        }
    }

    /** The rejection a future failed with. */
    static ChangeRejectedException rejection(CompletableFuture<?> future) {
        CompletionException e = assertThrows(CompletionException.class, future::join);
        return assertInstanceOf(ChangeRejectedException.class, e.getCause());
    }
}
