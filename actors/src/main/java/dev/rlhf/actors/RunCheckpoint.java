package dev.rlhf.actors;

import com.google.gson.GsonBuilder;
import dev.rlhf.experiment.PolicyLearner;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.checkpoint.SafetensorsWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A run directory's checkpoints: {@code checkpoints/iter-NNNNN/} holds the policy with its value head (HF layout,
 * so the tuned policy can be taken out as it is), the optimiser's moments, and {@code state.json} (iteration,
 * weight version, optimiser steps, KL coefficient, preference sequence number, reward-model version). A
 * checkpoint is written to a temporary directory and renamed into place, so neither a crash nor a reader ever sees
 * half of one.
 */
public final class RunCheckpoint {
    public static final String STATE_FILE = "state.json";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";

    private final Path root;

    /**
     * What the coordinator adds to the learner's own state.
     *
     * @param iteration iterations completed
     * @param preferenceSequence the newest judgment the current reward model was trained through
     * @param rewardModelVersion the reward-model version scoring at this point
     */
    public record State(int iteration, long preferenceSequence, int rewardModelVersion) {}

    public RunCheckpoint(Path runDir) {
        this.root = runDir.resolve("checkpoints");
    }

    /** Writes the learner's state and {@code state} as the checkpoint of {@code state.iteration()}. */
    public Path save(PolicyLearner learner, State state) throws IOException {
        Path target = root.resolve(String.format("iter-%05d", state.iteration()));
        Path staging = root.resolve(target.getFileName() + ".tmp");
        Files.createDirectories(staging);
        GptCheckpoint.save(learner.policy().weights(), staging);
        SafetensorsWriter.write(staging.resolve(OPTIMIZER_FILE), learner.updater().optimizer().state());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("iteration", state.iteration());
        json.put("weight_version", learner.version());
        json.put("optimizer_steps", learner.updater().optimizer().steps());
        json.put("kl_coefficient", learner.updater().klController().coefficient());
        json.put("preference_sequence", state.preferenceSequence());
        json.put("reward_model_version", state.rewardModelVersion());
        Files.writeString(staging.resolve(STATE_FILE),
                new GsonBuilder().setPrettyPrinting().create().toJson(json), StandardCharsets.UTF_8);
        // a reader (rlhf serve --follow) sees the old checkpoint or the new one, never half of either
        Path replaced = root.resolve(target.getFileName() + ".old");
        if (Files.exists(replaced)) {
            deleteRecursively(replaced); // left by a crash in an earlier save
        }
        if (Files.exists(target)) {
            Files.move(target, replaced, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        if (Files.exists(replaced)) {
            deleteRecursively(replaced);
        }
        return target;
    }

    /** The newest complete checkpoint, if any. */
    public Optional<Path> latest() throws IOException {
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (var entries = Files.list(root)) {
            return entries.filter(p -> p.getFileName().toString().matches("iter-\\d{5}"))
                    .filter(p -> Files.isRegularFile(p.resolve(STATE_FILE)))
                    .max(Path::compareTo);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
