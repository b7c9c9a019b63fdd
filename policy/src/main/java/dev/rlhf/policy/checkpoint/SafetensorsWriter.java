package dev.rlhf.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file. DJL's {@code NDList.encode(SAFETENSORS)} writes no {@code __metadata__}
 * (Hugging Face tags its files {@code "format": "pt"}) and leaves the header unaligned, where the format asks for
 * the data to start on an 8-byte boundary; this writer does both and is otherwise the same format, read back
 * with DJL's own {@code NDList.decode}.
 */
public final class SafetensorsWriter {
    private static final Gson GSON = new Gson();

    private SafetensorsWriter() {}

    /** Writes the tensors in map order, float32 or any type DJL names for safetensors; replaces {@code file}. */
    public static void write(Path file, Map<String, NDArray> tensors) throws IOException {
        JsonObject header = new JsonObject();
        JsonObject metadata = new JsonObject();
        metadata.addProperty("format", "pt");
        header.add("__metadata__", metadata);
        long offset = 0;
        for (Map.Entry<String, NDArray> entry : tensors.entrySet()) {
            NDArray array = entry.getValue();
            long bytes = array.size() * array.getDataType().getNumOfBytes();
            JsonObject info = new JsonObject();
            info.addProperty("dtype", array.getDataType().asSafetensors());
            JsonArray shape = new JsonArray();
            for (long dim : array.getShape().getShape()) {
                shape.add(dim);
            }
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            info.add("data_offsets", offsets);
            header.add(entry.getKey(), info);
            offset += bytes;
        }
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
            out.write(json);
            for (int i = json.length; i < padded; i++) {
                out.write(' ');
            }
            for (NDArray array : tensors.values()) {
                ByteBuffer data = array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                byte[] bytes = new byte[data.remaining()];
                data.get(bytes);
                out.write(bytes);
            }
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

}
