package dev.rlhf.labeling;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Follows a growing JSONL file ({@code metrics.jsonl} of a run) the way {@code tail -F} does: each poll returns the
 * complete lines appended since the last one. A file that does not exist yet reads as empty; a last line without
 * its newline waits for the rest; a file that shrank or whose first line changed (a run restarted with --resume
 * rewrites it) is read again from the start, and the poll says so. Not thread-safe: one follower per reader.
 */
final class MetricsFollower {

    /**
     * What one poll found.
     *
     * @param restarted the file was replaced or truncated: earlier lines no longer hold, {@code lines} start over
     * @param lines complete lines appended since the last poll, without their newline, blank ones left out
     */
    record Poll(boolean restarted, List<String> lines) {
    }

    private static final int CHUNK = 64 * 1024;

    private final Path file;
    private long position;
    private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
    private byte[] firstLine;

    MetricsFollower(Path file) {
        this.file = file;
    }

    /** Reads what was appended since the last poll. */
    Poll poll() throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            boolean restarted = false;
            long size = ch.size();
            if (size < position || (firstLine != null && !startsWith(ch, firstLine))) {
                position = 0;
                partial.reset();
                firstLine = null;
                restarted = true;
            }
            List<String> lines = new ArrayList<>();
            ByteBuffer buf = ByteBuffer.allocate(CHUNK);
            while (position < size) {
                buf.clear();
                int n = ch.read(buf, position);
                if (n <= 0) {
                    break;
                }
                position += n;
                byte[] bytes = buf.array();
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (bytes[i] == '\n') {
                        partial.write(bytes, start, i - start);
                        complete(lines);
                        start = i + 1;
                    }
                }
                partial.write(bytes, start, n - start);
            }
            return new Poll(restarted, lines);
        } catch (NoSuchFileException e) {
            boolean restarted = position > 0 || partial.size() > 0;
            position = 0;
            partial.reset();
            firstLine = null;
            return new Poll(restarted, List.of());
        }
    }

    private void complete(List<String> lines) {
        byte[] raw = partial.toByteArray();
        partial.reset();
        if (firstLine == null) {
            firstLine = Arrays.copyOf(raw, raw.length + 1);
            firstLine[raw.length] = '\n';
        }
        String line = new String(raw, StandardCharsets.UTF_8).strip();
        if (!line.isEmpty()) {
            lines.add(line);
        }
    }

    private static boolean startsWith(FileChannel ch, byte[] prefix) throws IOException {
        if (ch.size() < prefix.length) {
            return false;
        }
        ByteBuffer buf = ByteBuffer.allocate(prefix.length);
        while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
            // read until the prefix is in
        }
        return Arrays.equals(buf.array(), prefix);
    }
}
