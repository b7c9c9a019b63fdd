package dev.rlhf.policy.checkpoint;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The front of a {@code .safetensors} file as Hugging Face writes it: the header's length (8 bytes, little-endian),
 * then the JSON header with {@code "__metadata__": {"format": "pt"}} and one entry per tensor, padded with spaces so
 * the data that follows starts on an 8-byte boundary. Tensor data follows in entry order, back to back.
 */
public final class SafetensorsHeader {
    /** The name of the header's metadata entry. */
    public static final String METADATA = "__metadata__";

    private static final Gson GSON = new Gson();

    /**
     * One tensor's entry.
     *
     * @param dtype the safetensors type name, e.g. {@code F32}
     * @param bytes the size of its data
     */
    public record Entry(String name, String dtype, long[] shape, long bytes) {}

    private SafetensorsHeader() {}

    /** The length prefix and the padded JSON header for tensors laid out in {@code entries}' order. */
    public static byte[] encode(List<Entry> entries) {
        JsonObject header = new JsonObject();
        JsonObject metadata = new JsonObject();
        metadata.addProperty("format", "pt");
        header.add(METADATA, metadata);
        long offset = 0;
        for (Entry entry : entries) {
            JsonObject info = new JsonObject();
            info.addProperty("dtype", entry.dtype());
            JsonArray shape = new JsonArray();
            for (long dim : entry.shape()) {
                shape.add(dim);
            }
            info.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + entry.bytes());
            info.add("data_offsets", offsets);
            header.add(entry.name(), info);
            offset += entry.bytes();
        }
        byte[] json = GSON.toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer out = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(padded).put(json);
        while (out.hasRemaining()) {
            out.put((byte) ' ');
        }
        return out.array();
    }
}
