package dev.rlhf.store;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Prompt;

/**
 * One line of the unlabeled {@code pairs} format, {@code {"prompt", "response_a", "response_b"}} with an optional
 * {@code "id"}, as the prompt and task it becomes. Not a {@link PreferenceFormat}: those carry a judged pair
 * (chosen, rejected) both ways, this carries no judgment and is only read.
 */
record UnlabeledPair(Prompt prompt, ComparisonTask task) {

    /**
     * The prompt (id from its text) and two-candidate task (id from {@code "id"}, else from the content) of a line.
     *
     * @throws com.google.gson.JsonParseException if the line is not JSON
     * @throws IllegalStateException if it is not a JSON object
     * @throws IllegalArgumentException naming a missing or non-string field
     * @throws ChangeRejectedException if {@code "id"} breaks the id rules
     */
    static UnlabeledPair parse(String line, String source) {
        JsonObject json = JsonParser.parseString(line).getAsJsonObject();
        String prompt = string(json, "prompt");
        String a = string(json, "response_a");
        String b = string(json, "response_b");
        String taskId = json.has("id") ? string(json, "id") : "t-" + PreferenceJsonl.digest(prompt + '\0' + a + '\0' + b);
        Keys.requireValidId(taskId, "id");
        String promptId = "p-" + PreferenceJsonl.digest(prompt);
        return new UnlabeledPair(Prompt.newBuilder().setPromptId(promptId).setText(prompt).build(),
                ComparisonTask.newBuilder()
                        .setTaskId(taskId)
                        .setPromptId(promptId)
                        .addCandidates(Candidate.newBuilder().setText(a).setPolicyVersion(source))
                        .addCandidates(Candidate.newBuilder().setText(b).setPolicyVersion(source))
                        .build());
    }

    private static String string(JsonObject json, String field) {
        JsonElement value = json.get(field);
        if (value == null || !value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("field \"" + field + "\" must be a string");
        }
        return value.getAsString();
    }
}
