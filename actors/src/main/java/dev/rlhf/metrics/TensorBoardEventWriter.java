package dev.rlhf.metrics;

import dev.rlhf.proto.tensorboard.Event;
import dev.rlhf.proto.tensorboard.SessionLog;
import dev.rlhf.proto.tensorboard.Summary;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Writes scalar curves to a TensorBoard event file, {@code events.out.tfevents.<unix seconds>.<hostname>}
 * in a log directory, so that {@code tensorboard --logdir} shows them. The first record is the {@code
 * brain.Event:2} version event; each {@link #writeScalars} call adds one event and is on disk when it
 * returns, so a crashed run keeps every curve point written before the crash. Not thread-safe.
 */
public final class TensorBoardEventWriter implements AutoCloseable {

    /** The {@code file_version} TensorBoard expects in the first record. */
    public static final String FILE_VERSION = "brain.Event:2";

    private final Path file;
    private final TfRecordWriter records;

    private TensorBoardEventWriter(Path file, TfRecordWriter records) {
        this.file = file;
        this.records = records;
    }

    /**
     * Creates an event file in {@code logDir} (and the directory if needed), named after now and this host; when
     * a writer on this host already made one in this directory in the same second (a run resumed at once), the
     * host name gets a suffix ({@code .2}, {@code .3}, ...).
     *
     * @throws IOException if the file cannot be created or written
     */
    public static TensorBoardEventWriter create(Path logDir) throws IOException {
        Instant now = Instant.now();
        String hostname = localHostname();
        // a run resumed within the second its previous session started names its file after the same second
        for (int session = 1; ; session++) {
            try {
                return create(logDir, now, session == 1 ? hostname : hostname + "." + session);
            } catch (FileAlreadyExistsException e) {
                // try the next name
            }
        }
    }

    /**
     * Creates {@code events.out.tfevents.<created, in unix seconds>.<hostname>} in {@code logDir} (and the
     * directory if needed) and writes the version event, stamped {@code created}.
     *
     * @throws java.nio.file.FileAlreadyExistsException if that file exists
     * @throws IOException if the file cannot be created or written
     */
    public static TensorBoardEventWriter create(Path logDir, Instant created, String hostname)
            throws IOException {
        Files.createDirectories(logDir);
        Path file = logDir.resolve(
                String.format(Locale.ROOT, "events.out.tfevents.%010d.%s", created.getEpochSecond(), hostname));
        TfRecordWriter records = TfRecordWriter.createNew(file);
        try {
            records.write(Event.newBuilder()
                    .setWallTime(epochSeconds(created))
                    .setFileVersion(FILE_VERSION)
                    .build()
                    .toByteArray());
        } catch (IOException e) {
            records.close();
            throw e;
        }
        return new TensorBoardEventWriter(file, records);
    }

    /** The event file this writer appends to. */
    public Path file() {
        return file;
    }

    /**
     * Writes one event at {@code step} holding every scalar, tag to value. TensorBoard stores values as
     * 32-bit floats, so each value is rounded to the nearest float; NaN and infinities are kept.
     *
     * @throws NullPointerException if a value is null
     * @throws IOException if the write fails
     */
    public void writeScalars(long step, Instant wallTime, Map<String, Double> scalars) throws IOException {
        Summary.Builder summary = Summary.newBuilder();
        scalars.forEach((tag, value) -> summary.addValue(Summary.Value.newBuilder()
                .setTag(tag)
                .setSimpleValue(Objects.requireNonNull(value, () -> "scalar " + tag + " is null").floatValue())));
        records.write(Event.newBuilder()
                .setWallTime(epochSeconds(wallTime))
                .setStep(step)
                .setSummary(summary)
                .build()
                .toByteArray());
    }

    /**
     * Marks a restart at {@code step}: TensorBoard drops the points at {@code step} and later that an interrupted
     * attempt wrote to earlier files, so a resumed run's curves show each step once.
     *
     * @throws IOException if the write fails
     */
    public void writeRestart(long step, Instant wallTime, String note) throws IOException {
        records.write(Event.newBuilder()
                .setWallTime(epochSeconds(wallTime))
                .setStep(step)
                .setSessionLog(SessionLog.newBuilder().setStatus(SessionLog.SessionStatus.START).setMsg(note))
                .build()
                .toByteArray());
    }

    @Override
    public void close() throws IOException {
        records.close();
    }

    private static double epochSeconds(Instant instant) {
        return instant.getEpochSecond() + instant.getNano() / 1e9;
    }

    private static String localHostname() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            // The name only keeps files from different hosts apart; a run must not fail for want of it.
            return "localhost";
        }
    }
}
