package dev.rlhf.policy.checkpoint;

import ai.djl.ndarray.NDArray;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes a {@code .safetensors} file. DJL's {@code NDList.encode(SAFETENSORS)} writes no {@code __metadata__}
 * (Hugging Face tags its files {@code "format": "pt"}) and leaves the header unaligned, where the format asks for
 * the data to start on an 8-byte boundary; this writer does both and is otherwise the same format, read back
 * with DJL's own {@code NDList.decode}.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** Writes the tensors in map order, float32 or any type DJL names for safetensors; replaces {@code file}. */
    public static void write(Path file, Map<String, NDArray> tensors) throws IOException {
        List<SafetensorsHeader.Entry> entries = new ArrayList<>(tensors.size());
        tensors.forEach((name, array) -> entries.add(new SafetensorsHeader.Entry(name,
                array.getDataType().asSafetensors(), array.getShape().getShape(),
                array.size() * array.getDataType().getNumOfBytes())));
        byte[] header = SafetensorsHeader.encode(entries);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
            out.write(header);
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
