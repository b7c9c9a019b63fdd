package dev.rlhf.actors;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.typesafe.config.Config;
import dev.rlhf.policy.align.GroupPolicyLearner;
import dev.rlhf.policy.align.GroupSettings;
import dev.rlhf.policy.align.PreferenceLearner;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.checkpoint.SafetensorsReader;
import dev.rlhf.policy.checkpoint.SafetensorsWriter;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.ppo.PolicyLearner;
import dev.rlhf.policy.ppo.PpoSettings;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.policy.train.LearnerReplicas;
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
 * weight version, optimiser steps, KL coefficient, preference sequence numbers, reward-model version and any
 * reward-model training in flight). A checkpoint is written to a temporary directory and renamed into place, so
 * neither a crash nor a reader ever sees half of one. Every random stream of a run derives from its seed and a
 * counter kept here (iteration, update count, task id), so a run resumed from a checkpoint goes on as the
 * uninterrupted one did. With the learner on a learner node, the node writes the checkpoints under its own root and
 * the run directory holds a record of each ({@link #record}): the node's {@code state.json} with where the
 * checkpoint is there, and no weights.
 */
public final class RunCheckpoint {
    public static final String STATE_FILE = "state.json";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    /** A run directory's checkpoints. */
    public static final String CHECKPOINTS_DIR = "checkpoints";
    /** In the record of a checkpoint the learner node wrote: where it is there, and the node. */
    private static final String LEARNER_CHECKPOINT = "learner_checkpoint";
    private static final String LEARNER_NODE = "learner_node";
    private static final String ALGORITHM = "algorithm";

    private final Path root;

    /**
     * What the coordinator adds to the learner's own state.
     *
     * @param iteration iterations completed
     * @param preferenceSequence the newest judgment the current reward model was trained through
     * @param rewardModelVersion the reward-model version scoring at this point
     * @param judgedForTraining the newest judgment handed to a reward-model training so far
     * @param retrainingDue the iteration a reward model in training (on judgments through {@code
     *     judgedForTraining}) takes over at, or -1 when none is training
     */
    public record State(int iteration, long preferenceSequence, int rewardModelVersion, long judgedForTraining,
            int retrainingDue) {}

    public RunCheckpoint(Path runDir) {
        this.root = runDir.resolve(CHECKPOINTS_DIR);
    }

    /** Writes the learner's state and {@code state} as the checkpoint of {@code state.iteration()}. */
    public Path save(OnlineLearner learner, State state) throws IOException {
        Path staging = staging(state.iteration());
        GptCheckpoint.save(learner.weights(), staging);
        SafetensorsWriter.write(staging.resolve(OPTIMIZER_FILE), learner.optimizer().state());
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("iteration", state.iteration());
        json.put(ALGORITHM, learner.algorithm().key());
        json.put("weight_version", learner.version());
        json.put("optimizer_steps", learner.optimizer().steps());
        json.putAll(learner.checkpointState());
        json.put("preference_sequence", state.preferenceSequence());
        json.put("reward_model_version", state.rewardModelVersion());
        json.put("judged_for_training", state.judgedForTraining());
        json.put("retraining_due", state.retrainingDue());
        Files.writeString(staging.resolve(STATE_FILE),
                new GsonBuilder().setPrettyPrinting().create().toJson(json), StandardCharsets.UTF_8);
        return install(staging, state.iteration());
    }

    /**
     * Records in this run directory the checkpoint a learner node wrote ({@code rlhf.cluster.learner = remote}): a
     * {@code state.json} of the node's, naming the node and where the checkpoint is there, and no weights (they
     * stay on the node, which resumes from them).
     *
     * @param learnerState the state.json the node wrote
     * @return the record's directory
     */
    public Path record(int iteration, String learnerState, String learnerCheckpoint, String learnerNode)
            throws IOException {
        JsonObject json = JsonParser.parseString(learnerState).getAsJsonObject();
        if (!json.has("iteration") || json.get("iteration").getAsInt() != iteration) {
            throw new IOException("the learner node's state.json is not of iteration " + iteration + ": "
                    + json.get("iteration"));
        }
        json.addProperty(LEARNER_CHECKPOINT, learnerCheckpoint);
        json.addProperty(LEARNER_NODE, learnerNode);
        Path staging = staging(iteration);
        Files.writeString(staging.resolve(STATE_FILE), new GsonBuilder().setPrettyPrinting().create().toJson(json),
                StandardCharsets.UTF_8);
        return install(staging, iteration);
    }

    /** The directory name of the checkpoint after {@code iteration} iterations. */
    public static String directoryName(int iteration) {
        return String.format("iter-%05d", iteration);
    }

    private Path staging(int iteration) throws IOException {
        Path staging = root.resolve(directoryName(iteration) + ".tmp");
        if (Files.exists(staging)) {
            deleteRecursively(staging); // left by a crash in an earlier save
        }
        Files.createDirectories(staging);
        return staging;
    }

    /** Renames {@code staging} into place as the checkpoint of {@code iteration}. */
    private Path install(Path staging, int iteration) throws IOException {
        Path target = root.resolve(directoryName(iteration));
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

    /**
     * Reads the coordinator's part of a checkpoint.
     *
     * @throws IOException if {@code state.json} cannot be read
     * @throws CheckpointException naming the key when one is missing
     */
    public static State readState(Path checkpoint) throws IOException {
        JsonObject json = readJson(checkpoint);
        return new State(integer(json, "iteration", checkpoint), number(json, "preference_sequence", checkpoint).longValue(),
                integer(json, "reward_model_version", checkpoint),
                number(json, "judged_for_training", checkpoint).longValue(), integer(json, "retraining_due", checkpoint));
    }

    /**
     * Rebuilds the learner a checkpoint saved: its policy (and PPO's value head), optimiser moments and steps, PPO's
     * KL coefficient and the weight version, in sub-managers of {@code parent}.
     *
     * @param sft the SFT weights (the frozen reference)
     * @param tokenizer the policy's tokenizer (DPO and IPO encode the judged comparisons with it); the caller keeps it
     * @param algorithm the run's algorithm, which must be the one that wrote the checkpoint
     * @throws IOException if {@code state.json} cannot be read
     * @throws CheckpointException naming the file and tensor when the checkpoint is incomplete, or the algorithm
     *     when another one wrote it
     */
    public static OnlineLearner resumeLearner(Path checkpoint, GptWeights sft, TextTokenizer tokenizer,
            NDManager parent, Config config, Algorithm algorithm) throws IOException {
        JsonObject json = readJson(checkpoint);
        if (json.has(LEARNER_CHECKPOINT)) {
            throw new CheckpointException("checkpoint " + checkpoint + " records a checkpoint the learner node "
                    + json.get(LEARNER_NODE).getAsString() + " wrote (" + json.get(LEARNER_CHECKPOINT).getAsString()
                    + "), and holds no weights: resume with rlhf.cluster.learner = remote");
        }
        // checkpoints from before rlhf.algorithm existed are PPO's
        String written = json.has(ALGORITHM) ? json.get(ALGORITHM).getAsString() : Algorithm.PPO.key();
        if (!written.equals(algorithm.key())) {
            throw new CheckpointException("checkpoint " + checkpoint + " was written by " + written
                    + " but rlhf.algorithm is " + algorithm.key() + ": resume with the algorithm the run started with");
        }
        long version = number(json, "weight_version", checkpoint).longValue();
        int steps = integer(json, "optimizer_steps", checkpoint);
        GptWeights trained = GptCheckpoint.load(checkpoint, parent);
        try (NDManager optimizer = parent.newSubManager()) {
            Map<String, NDArray> moments = SafetensorsReader.read(checkpoint.resolve(OPTIMIZER_FILE), optimizer);
            return switch (algorithm) {
                case PPO -> new PpoOnlineLearner(PolicyLearner.resume(sft, trained, parent, PpoSettings.from(config),
                        LearnerReplicas.from(config),
                        new PolicyLearner.Saved(version, number(json, PpoOnlineLearner.KL_COEFFICIENT, checkpoint)
                                .doubleValue(), steps, moments)));
                case GRPO, RLOO -> new GroupOnlineLearner(GroupPolicyLearner.resume(sft, trained, parent,
                        algorithm == Algorithm.GRPO ? GroupSettings.grpo(config) : GroupSettings.rloo(config),
                        new GroupPolicyLearner.Saved(version, steps, moments)));
                case DPO, IPO -> new PreferenceOnlineLearner(PreferenceLearner.resume(sft, trained, parent,
                        OnlineLearners.preferenceSettings(algorithm, config),
                        new PreferenceLearner.Saved(version, steps, moments)), tokenizer);
            };
        } catch (RuntimeException e) {
            trained.close();
            throw e;
        }
    }

    /**
     * Where the learner node keeps the checkpoint that {@code checkpoint} records; empty for a checkpoint written in
     * this run directory, weights and all.
     */
    public static Optional<String> learnerCheckpoint(Path checkpoint) throws IOException {
        JsonObject json = readJson(checkpoint);
        return json.has(LEARNER_CHECKPOINT) ? Optional.of(json.get(LEARNER_CHECKPOINT).getAsString())
                : Optional.empty();
    }

    /**
     * Where a checkpoint's weights are: in the checkpoint itself, or in the learner node's checkpoint that its record
     * names, when that is on this machine too (the same host, or a volume both see).
     *
     * @throws CheckpointException naming the node and the path when the recorded checkpoint is not here
     */
    public static Path weightsDirectory(Path checkpoint) throws IOException {
        JsonObject json = readJson(checkpoint);
        if (!json.has(LEARNER_CHECKPOINT)) {
            return checkpoint;
        }
        Path there = Path.of(json.get(LEARNER_CHECKPOINT).getAsString());
        if (!Files.isRegularFile(there.resolve(STATE_FILE))) {
            throw new CheckpointException("checkpoint " + checkpoint + " records the checkpoint " + there + " of the "
                    + "learner node " + json.get(LEARNER_NODE).getAsString() + ", which is not on this machine: copy "
                    + "that directory here (to the same path) and try again");
        }
        return there;
    }

    /** The weight version a checkpoint saved. */
    public static long weightVersion(Path checkpoint) throws IOException {
        return number(readJson(checkpoint), "weight_version", checkpoint).longValue();
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

    private static JsonObject readJson(Path checkpoint) throws IOException {
        return JsonParser.parseString(Files.readString(checkpoint.resolve(STATE_FILE), StandardCharsets.UTF_8))
                .getAsJsonObject();
    }

    private static Number number(JsonObject json, String key, Path checkpoint) {
        if (!json.has(key) || !json.get(key).isJsonPrimitive()) {
            throw new CheckpointException(checkpoint.resolve(STATE_FILE) + " has no number " + key);
        }
        return json.get(key).getAsNumber();
    }

    private static int integer(JsonObject json, String key, Path checkpoint) {
        return number(json, key, checkpoint).intValue();
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
