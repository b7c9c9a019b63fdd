package dev.rlhf.metrics;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Appends one JSON object per iteration to a JSONL file ({@code metrics.jsonl} in a run directory):
 * {@code {"iteration":3,"wall_time":1718000000.25,"reward/rm_mean":0.52,...}}. Keys come in the order the
 * caller's map iterates, after {@code iteration} and {@code wall_time}; values are JSON numbers.
 *
 * <p>NaN and infinities are written as {@code null}: JSON has no literal for them and strict parsers (jq,
 * JavaScript) reject the {@code NaN} that some writers emit. The key stays, so a reader can tell "computed
 * but undefined" (null) from "not recorded" (absent).
 *
 * <p>Each line is on disk (fsync) when {@link #write} returns. Not thread-safe.
 */
public final class MetricsJsonlWriter implements AutoCloseable {

    /** The file name a run directory uses. */
    public static final String FILE_NAME = "metrics.jsonl";
    /** Key of the iteration number in every line. */
    public static final String ITERATION = "iteration";
    /** Key of the wall-clock time, seconds since the Unix epoch, in every line. */
    public static final String WALL_TIME = "wall_time";

    private final Gson gson = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
    private final FileChannel channel;

    private MetricsJsonlWriter(FileChannel channel) {
        this.channel = channel;
    }

    /**
     * Opens {@code file} for appending, creating it if needed. A file whose last line was cut short (a run
     * that crashed mid-write) gets a line break first, so the next object starts on a line of its own.
     *
     * @throws IOException if the file cannot be opened or written
     */
    public static MetricsJsonlWriter open(Path file) throws IOException {
        boolean cutShort = endsMidLine(file);
        FileChannel channel = FileChannel.open(file,
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        try {
            if (cutShort) {
                writeFully(channel, ByteBuffer.wrap(new byte[] {'\n'}));
            }
        } catch (IOException e) {
            channel.close();
            throw e;
        }
        return new MetricsJsonlWriter(channel);
    }

    /**
     * Drops the lines of iterations after {@code lastKept} from {@code file} (a resumed run redoes them), keeping
     * every other line as it was; the file is replaced atomically. Does nothing when there is no file.
     *
     * @throws IOException if the file cannot be read or replaced
     */
    public static void keepThrough(Path file, int lastKept) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonElement parsed;
            try {
                parsed = JsonParser.parseString(line);
            } catch (JsonParseException e) {
                continue; // a line cut short by a crash
            }
            if (parsed.isJsonObject() && parsed.getAsJsonObject().has(ITERATION)
                    && parsed.getAsJsonObject().get(ITERATION).getAsInt() <= lastKept) {
                kept.add(line);
            }
        }
        Path staging = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(staging, kept, StandardCharsets.UTF_8);
        Files.move(staging, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Appends the line for {@code iteration}.
     *
     * @throws IllegalArgumentException if a scalar is named {@value #ITERATION} or {@value #WALL_TIME}
     * @throws NullPointerException if a value is null
     * @throws IOException if the write fails
     */
    public void write(int iteration, Instant wallTime, Map<String, Double> scalars) throws IOException {
        JsonObject line = new JsonObject();
        line.addProperty(ITERATION, iteration);
        line.addProperty(WALL_TIME, wallTime.getEpochSecond() + wallTime.getNano() / 1e9);
        scalars.forEach((key, value) -> {
            if (line.has(key)) {
                throw new IllegalArgumentException("scalar name " + key + " is reserved for the line's own field");
            }
            double v = Objects.requireNonNull(value, () -> "scalar " + key + " is null");
            line.add(key, Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE);
        });
        writeFully(channel, ByteBuffer.wrap((gson.toJson(line) + "\n").getBytes(StandardCharsets.UTF_8)));
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private static boolean endsMidLine(Path file) throws IOException {
        if (!Files.exists(file) || Files.size(file) == 0) {
            return false;
        }
        try (SeekableByteChannel in = Files.newByteChannel(file)) {
            ByteBuffer last = ByteBuffer.allocate(1);
            in.position(in.size() - 1).read(last);
            return last.get(0) != '\n';
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
    }
}
