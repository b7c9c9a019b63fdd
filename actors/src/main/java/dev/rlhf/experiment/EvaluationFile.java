package dev.rlhf.experiment;

import com.google.gson.FieldNamingPolicy;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonParseException;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A policy's evaluation completions kept in the run directory ({@code evaluation-sft.json} for the SFT policy, so
 * a resumed run reports the same before/after comparison without sampling the SFT policy again;
 * {@code evaluation-tuned.json} for the tuned one, to compare them later).
 */
public final class EvaluationFile {
    /** The SFT policy's evaluation, written before the first PPO iteration. */
    public static final String SFT = "evaluation-sft.json";
    /** The tuned policy's evaluation (same prompts and seeds), written when the run ends. */
    public static final String TUNED = "evaluation-tuned.json";

    private static final Gson GSON = new GsonBuilder()
            .setFieldNamingPolicy(FieldNamingPolicy.LOWER_CASE_WITH_UNDERSCORES).disableHtmlEscaping().create();

    /** The prompts and, at the same index, their completions. */
    public record Evaluation(List<String> prompts, List<Completion> completions) {}

    private record StoredCompletion(int[] tokenIds, float[] logprobs, String finishReason, String text) {}

    private record Stored(List<String> prompts, List<StoredCompletion> completions) {}

    private EvaluationFile() {}

    /** Writes {@code evaluation} to {@code file} atomically. */
    public static void write(Path file, Evaluation evaluation) throws IOException {
        List<StoredCompletion> completions = evaluation.completions().stream()
                .map(c -> new StoredCompletion(c.tokenIds(), c.logprobs(), c.finishReason().name(), c.text()))
                .toList();
        Path staging = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(staging, GSON.toJson(new Stored(evaluation.prompts(), completions)), StandardCharsets.UTF_8);
        Files.move(staging, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Reads an evaluation {@link #write} wrote.
     *
     * @throws IOException if the file cannot be read or is not an evaluation
     */
    public static Evaluation read(Path file) throws IOException {
        Stored stored;
        try {
            stored = GSON.fromJson(Files.readString(file, StandardCharsets.UTF_8), Stored.class);
        } catch (JsonParseException e) {
            throw new IOException(file + " is not an evaluation file: " + e.getMessage(), e);
        }
        if (stored == null || stored.prompts() == null || stored.completions() == null
                || stored.prompts().size() != stored.completions().size()) {
            throw new IOException(file + " is not an evaluation file: prompts and completions do not pair up");
        }
        List<Completion> completions = stored.completions().stream()
                .map(c -> new Completion(c.tokenIds(), c.logprobs(), FinishReason.valueOf(c.finishReason()), c.text()))
                .toList();
        return new Evaluation(stored.prompts(), completions);
    }
}
