package dev.rlhf.serve;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The policy a server starts with: the model, its tokenizer when it has one (token-id prompts need none), and
 * what identifies the weights. Hot-swapped weights replace the model and keep the tokenizer. Closing it closes the
 * model (if the server has not already, having swapped it out) and the tokenizer.
 */
public final class ServedModel implements AutoCloseable {
    private final GptModel model;
    private final Optional<TextTokenizer> tokenizer;
    private final String checkpointId;
    private final long weightVersion;

    /**
     * @param tokenizer the tokenizer, or empty to serve token-id prompts only
     * @param checkpointId what identifies these weights to clients
     * @param weightVersion version of these weights; swapped-in weights count on from it
     */
    public ServedModel(GptModel model, Optional<TextTokenizer> tokenizer, String checkpointId, long weightVersion) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.checkpointId = checkpointId;
        this.weightVersion = weightVersion;
    }

    /**
     * Loads a checkpoint directory (config, weights, tokenizer); its id is the directory and the SHA-256 of its
     * weights file.
     *
     * @throws dev.rlhf.policy.model.CheckpointException if the checkpoint is missing or malformed
     * @throws UncheckedIOException if the weights file cannot be read for its digest
     */
    public static ServedModel load(Path dir, NDManager manager) {
        String id = checkpointId(dir);
        Policy policy = Policy.load(dir, manager);
        return new ServedModel(policy.model(), Optional.of(policy.tokenizer()), id, 1);
    }

    /**
     * What identifies the weights of a checkpoint directory: the directory and the SHA-256 of its weights file.
     *
     * @throws UncheckedIOException if the weights file cannot be read
     */
    public static String checkpointId(Path dir) {
        return dir.toAbsolutePath().normalize() + "@sha256:" + sha256(dir.resolve(GptCheckpoint.WEIGHTS_FILE));
    }

    public GptModel model() {
        return model;
    }

    public Optional<TextTokenizer> tokenizer() {
        return tokenizer;
    }

    public String checkpointId() {
        return checkpointId;
    }

    public long weightVersion() {
        return weightVersion;
    }

    /** The model with its id and version, as the scheduler serves it first. */
    PolicyWeights weights() {
        return new PolicyWeights(model, checkpointId, weightVersion);
    }

    private static String sha256(Path file) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK lacks SHA-256", e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + " for its digest", e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    @Override
    public void close() {
        tokenizer.ifPresent(TextTokenizer::close);
        model.close();
    }
}
