package dev.rlhf.cluster;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.protobuf.ByteString;
import dev.rlhf.policy.checkpoint.SafetensorsHeader;
import dev.rlhf.policy.model.WeightsSnapshot;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link WeightsSnapshot}'s tensors as one safetensors file in memory, the way weights travel to a rollout worker
 * node: float32, little-endian, each tensor flattened to one dimension under its memory-layout name, data aligned to
 * 8 bytes after the header. The version travels beside it, the file in chunks ({@link VersionChunks}).
 */
final class SnapshotSafetensors {
    private static final String F32 = "F32";

    private SnapshotSafetensors() {}

    /**
     * The SHA-256 of {@code snapshot} as it travels: what a learner node and the coordinator compare to agree that
     * they start from the same SFT weights.
     */
    static ByteString sha256(WeightsSnapshot snapshot) {
        return VersionChunks.sha256(encode(snapshot));
    }

    static ByteString encode(WeightsSnapshot snapshot) {
        List<SafetensorsHeader.Entry> entries = new ArrayList<>();
        long dataBytes = 0;
        for (Map.Entry<String, float[]> tensor : snapshot.tensors().entrySet()) {
            long bytes = 4L * tensor.getValue().length;
            entries.add(new SafetensorsHeader.Entry(tensor.getKey(), F32, new long[] {tensor.getValue().length},
                    bytes));
            dataBytes += bytes;
        }
        byte[] header = SafetensorsHeader.encode(entries);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(header.length + dataBytes)).order(ByteOrder.LITTLE_ENDIAN);
        out.put(header);
        for (float[] values : snapshot.tensors().values()) {
            out.asFloatBuffer().put(values);
            out.position(out.position() + 4 * values.length);
        }
        out.flip();
        return ByteString.copyFrom(out);
    }

    /**
     * {@link #decode} of a version's file a node received by weight sync.
     *
     * @throws StatusRuntimeException INVALID_ARGUMENT naming {@code data} and saying what is wrong with the file
     */
    static WeightsSnapshot decodeSynced(ByteString file, long version, int maxHeaderBytes) {
        try {
            return decode(file, version, maxHeaderBytes);
        } catch (IllegalArgumentException e) {
            throw Status.INVALID_ARGUMENT.withDescription("data: the version's safetensors file " + e.getMessage())
                    .asRuntimeException();
        }
    }

    /**
     * @param maxHeaderBytes the longest JSON header read; a longer one is refused before it is read
     * @throws IllegalArgumentException saying what is wrong when {@code bytes} is not a safetensors file of float32
     *     tensors with a header of at most {@code maxHeaderBytes}
     */
    static WeightsSnapshot decode(ByteString bytes, long version, int maxHeaderBytes) {
        ByteBuffer in = bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (in.remaining() < 8) {
            throw new IllegalArgumentException("is " + in.remaining() + " bytes long, too short for a header");
        }
        long headerLength = in.getLong();
        if (headerLength > maxHeaderBytes) {
            throw new IllegalArgumentException("declares a header of " + headerLength + " bytes, more than the "
                    + maxHeaderBytes + " allowed (rlhf.cluster.max-weights-header-bytes)");
        }
        if (headerLength < 2 || headerLength > in.remaining()) {
            throw new IllegalArgumentException("declares a header of " + headerLength + " bytes in "
                    + in.remaining());
        }
        byte[] json = new byte[(int) headerLength];
        in.get(json);
        ByteBuffer data = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        JsonObject header;
        try {
            header = JsonParser.parseString(new String(json, StandardCharsets.UTF_8)).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("has a header that is not a JSON object: " + e.getMessage(), e);
        }
        Map<String, float[]> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> entry : header.entrySet()) {
            if (!entry.getKey().equals(SafetensorsHeader.METADATA)) {
                tensors.put(entry.getKey(), tensor(entry.getKey(), entry.getValue(), data));
            }
        }
        return new WeightsSnapshot(version, tensors);
    }

    private static float[] tensor(String name, JsonElement element, ByteBuffer data) {
        JsonObject info = element.isJsonObject() ? element.getAsJsonObject() : null;
        if (info == null || !isString(info.get("dtype")) || !isNumberArray(info.get("shape"))
                || !isNumberArray(info.get("data_offsets")) || info.getAsJsonArray("data_offsets").size() != 2) {
            throw new IllegalArgumentException("tensor " + name + " has a malformed header entry: " + element);
        }
        String dtype = info.get("dtype").getAsString();
        if (!dtype.equals(F32)) {
            throw new IllegalArgumentException("tensor " + name + " is " + dtype + ", not " + F32);
        }
        long count = 1;
        for (JsonElement dim : info.getAsJsonArray("shape")) {
            count *= dim.getAsLong();
        }
        JsonArray offsets = info.getAsJsonArray("data_offsets");
        long begin = offsets.get(0).getAsLong();
        long end = offsets.get(1).getAsLong();
        if (begin < 0 || end > data.capacity() || end - begin != 4 * count) {
            throw new IllegalArgumentException("tensor " + name + " has data offsets [" + begin + ", " + end
                    + ") that do not hold its " + count + " values in " + data.capacity() + " bytes of data");
        }
        float[] values = new float[(int) count];
        data.slice((int) begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
        return values;
    }

    private static boolean isString(JsonElement element) {
        return element != null && element.isJsonPrimitive() && element.getAsJsonPrimitive().isString();
    }

    private static boolean isNumberArray(JsonElement element) {
        if (element == null || !element.isJsonArray()) {
            return false;
        }
        for (JsonElement item : element.getAsJsonArray()) {
            if (!item.isJsonPrimitive() || !item.getAsJsonPrimitive().isNumber()) {
                return false;
            }
        }
        return true;
    }
}
