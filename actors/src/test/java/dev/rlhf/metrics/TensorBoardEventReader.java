package dev.rlhf.metrics;

import dev.rlhf.proto.tensorboard.Event;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads an event file back the way TensorBoard does: record by record, checking both masked CRCs, and
 * treating an incomplete last record as not yet written rather than as an error.
 */
final class TensorBoardEventReader {

    /**
     * The events a file holds.
     *
     * @param events every complete record, parsed
     * @param truncatedTail whether bytes of an incomplete record follow them
     */
    record Contents(List<Event> events, boolean truncatedTail) {}

    private TensorBoardEventReader() {}

    /** @throws IOException if a complete record's CRC does not match, or the file cannot be read */
    static Contents read(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (bytes.hasRemaining()) {
            int start = bytes.position();
            if (bytes.remaining() < TfRecordWriter.LENGTH_BYTES + TfRecordWriter.CRC_BYTES) {
                return new Contents(events, true);
            }
            long length = bytes.getLong();
            check(MaskedCrc32c.of(bytes.array(), start, TfRecordWriter.LENGTH_BYTES), bytes.getInt(),
                    "length", start, file);
            if (bytes.remaining() < length + TfRecordWriter.CRC_BYTES) {
                return new Contents(events, true);
            }
            byte[] data = new byte[(int) length];
            bytes.get(data);
            check(MaskedCrc32c.of(data), bytes.getInt(), "data", start, file);
            events.add(Event.parseFrom(data));
        }
        return new Contents(events, false);
    }

    private static void check(int computed, int stored, String part, int offset, Path file) throws IOException {
        if (computed != stored) {
            throw new IOException(String.format("%s: %s CRC of the record at byte %d is %08x, stored %08x",
                    file, part, offset, computed, stored));
        }
    }
}
