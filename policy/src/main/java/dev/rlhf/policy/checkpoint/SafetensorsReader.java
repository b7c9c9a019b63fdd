package dev.rlhf.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.model.CheckpointException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Reads a {@code .safetensors} file through DJL's own {@code NDList.decode}, keyed by tensor name. */
public final class SafetensorsReader {

    private SafetensorsReader() {}

    /**
     * Reads every tensor of {@code file} into {@code manager}, in file order.
     *
     * @throws CheckpointException naming the file when it is not safetensors or holds a name twice
     */
    public static Map<String, NDArray> read(Path file, NDManager manager) {
        NDList list;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 20)) {
            list = NDList.decode(manager, in);
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException("cannot read " + file + " as safetensors: " + e.getMessage(), e);
        }
        Map<String, NDArray> byName = new LinkedHashMap<>();
        for (NDArray array : list) {
            if (byName.put(array.getName(), array) != null) {
                throw new CheckpointException("tensor " + array.getName() + " occurs twice in " + file);
            }
        }
        return byName;
    }
}
