package dev.rlhf.metrics;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Appends records to a new file in TFRecord framing: uint64 length, masked CRC-32C of those 8 bytes, the
 * data, masked CRC-32C of the data, all little-endian. Each record reaches the disk (fsync) before {@link
 * #write} returns.
 */
final class TfRecordWriter implements AutoCloseable {

    static final int LENGTH_BYTES = Long.BYTES;
    static final int CRC_BYTES = Integer.BYTES;

    private final FileChannel channel;

    private TfRecordWriter(FileChannel channel) {
        this.channel = channel;
    }

    /** Creates {@code file}; fails rather than overwrite one that exists. */
    static TfRecordWriter createNew(Path file) throws IOException {
        return new TfRecordWriter(FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    void write(byte[] data) throws IOException {
        ByteBuffer record = ByteBuffer.allocate(LENGTH_BYTES + CRC_BYTES + data.length + CRC_BYTES)
                .order(ByteOrder.LITTLE_ENDIAN);
        record.putLong(data.length);
        record.putInt(MaskedCrc32c.of(record.array(), 0, LENGTH_BYTES));
        record.put(data);
        record.putInt(MaskedCrc32c.of(data));
        record.flip();
        // One buffer per record, so a process that dies mid-run leaves at most the last record partial.
        while (record.hasRemaining()) {
            channel.write(record);
        }
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
