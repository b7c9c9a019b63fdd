package dev.rlhf.cli;

import com.google.gson.GsonBuilder;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.model.GptConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * What the commands that train from a checkpoint and a file of pairs ({@code rm train}, {@code dpo train}) share:
 * the checks of their options and the JSON object they end with.
 */
final class OfflineTraining {
    /** Files a directory needs to be a checkpoint training can start from. */
    private static final List<String> CHECKPOINT_FILES =
            List.of(GptConfig.FILE_NAME, GptCheckpoint.WEIGHTS_FILE, "tokenizer.json");

    private OfflineTraining() {}

    /**
     * @param option the option that named {@code dir}, for the message
     * @throws CheckpointException naming the first file a checkpoint needs that {@code dir} lacks
     */
    static void requireCheckpoint(String option, Path dir) {
        for (String name : CHECKPOINT_FILES) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                throw new CheckpointException(option + " " + dir + " is not a checkpoint: it has no " + name);
            }
        }
    }

    /**
     * @throws IllegalArgumentException if {@code dir} exists and is not an empty directory
     */
    static void requireEmptyOrAbsent(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("--out " + dir + " exists and is not a directory");
        }
        try (Stream<Path> children = Files.list(dir)) {
            if (children.findAny().isPresent()) {
                throw new IllegalArgumentException("--out " + dir + " exists and is not empty; it is not"
                        + " overwritten");
            }
        }
    }

    /**
     * @throws IllegalArgumentException {@code rule + " but was " + value} unless {@code valid}
     */
    static void requireOption(boolean valid, String rule, Object value) {
        if (!valid) {
            throw new IllegalArgumentException(rule + " but was " + value);
        }
    }

    /** The file's name without its extension: what a default output directory is called after. */
    static String stem(Path file) {
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0 ? name.substring(0, dot) : name;
    }

    /** {@code json} as one line on the command's stdout. */
    static void printJson(CommandLine.Model.CommandSpec spec, Map<String, Object> json) {
        PrintWriter out = spec.commandLine().getOut();
        out.println(new GsonBuilder().disableHtmlEscaping().serializeSpecialFloatingPointValues().create()
                .toJson(json));
        out.flush();
    }
}
