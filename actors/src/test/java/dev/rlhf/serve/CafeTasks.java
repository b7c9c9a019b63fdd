package dev.rlhf.serve;

import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.store.PreferenceStore;

/** The preference-service tests' data: prompt {@code p}, "Review the cafe.", and tasks comparing two replies to it. */
final class CafeTasks {
    static final String PROMPT_ID = "p";
    static final String PROMPT = "Review the cafe.";
    static final String FIRST = "Lovely coffee.";
    static final String SECOND = "Bad.";

    private CafeTasks() {}

    /** Stores the prompt and one task per id, candidates {@link #FIRST} then {@link #SECOND}, durably. */
    static void add(PreferenceStore store, String... taskIds) {
        store.addPrompt(Prompt.newBuilder().setPromptId(PROMPT_ID).setText(PROMPT).build()).join();
        for (String taskId : taskIds) {
            store.addTask(ComparisonTask.newBuilder().setTaskId(taskId).setPromptId(PROMPT_ID)
                    .addCandidates(Candidate.newBuilder().setText(FIRST))
                    .addCandidates(Candidate.newBuilder().setText(SECOND))
                    .build()).join();
        }
    }
}
