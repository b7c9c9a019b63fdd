package dev.rlhf.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.tensorboard.Event;
import dev.rlhf.proto.tensorboard.SessionLog;
import dev.rlhf.proto.tensorboard.Summary;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorBoardEventWriterTest {

    private static final Instant CREATED = Instant.parse("2024-06-10T06:13:20.250Z");

    @TempDir Path dir;

    @Test
    void restartMarkerIsASessionLogStartAtItsStep() throws IOException {
        Path file;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            writer.writeRestart(4, CREATED, "resumed after iteration 3");
            file = writer.file();
        }

        Event restart = TensorBoardEventReader.read(file).events().get(1);

        assertEquals(4, restart.getStep());
        assertEquals(SessionLog.SessionStatus.START, restart.getSessionLog().getStatus());
        assertEquals("resumed after iteration 3", restart.getSessionLog().getMsg());
    }

    @Test
    void scalarsRoundTripWithTagsStepsValuesAndWallTimes() throws IOException {
        Path file;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            for (int step = 1; step <= 3; step++) {
                writer.writeScalars(step, CREATED.plusMillis(1500L * step), scalarsAt(step));
            }
            file = writer.file();
        }

        TensorBoardEventReader.Contents contents = TensorBoardEventReader.read(file);

        assertFalse(contents.truncatedTail());
        assertEquals(4, contents.events().size(), "the version event, then one per step");
        for (int step = 1; step <= 3; step++) {
            Event event = contents.events().get(step);
            assertEquals(step, event.getStep());
            assertEquals(1718000000.25 + 1.5 * step, event.getWallTime(), 1e-6);
            assertEquals(expectedValues(scalarsAt(step)), event.getSummary().getValueList());
        }
    }

    @Test
    void fileIsNamedAfterCreationSecondsAndHost() throws IOException {
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer-7")) {
            assertEquals(dir.resolve("events.out.tfevents.1718000000.trainer-7"), writer.file());
        }
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir.resolve("run"))) {
            String name = writer.file().getFileName().toString();
            assertTrue(name.matches("events\\.out\\.tfevents\\.\\d{10}\\.[^/]+"), name);
        }
    }

    @Test
    void aSecondWriterInTheSameSecondGetsAFileOfItsOwn() throws IOException {
        Path run = dir.resolve("resumed-at-once");
        try (TensorBoardEventWriter first = TensorBoardEventWriter.create(run);
                TensorBoardEventWriter second = TensorBoardEventWriter.create(run)) {
            assertNotEquals(first.file(), second.file());
            assertTrue(second.file().getFileName().toString().startsWith("events.out.tfevents."),
                    second.file().toString());
        }
    }

    @Test
    void firstRecordIsTheVersionEvent() throws IOException {
        Path file;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            writer.writeScalars(1, CREATED, Map.of("ppo/entropy", 2.0));
            file = writer.file();
        }

        Event first = TensorBoardEventReader.read(file).events().get(0);

        assertEquals("brain.Event:2", first.getFileVersion());
        assertEquals(1718000000.25, first.getWallTime());
        assertFalse(first.hasSummary());
    }

    @Test
    void versionRecordIsTfRecordFramingOfTensorFlowsWireEncoding() throws IOException {
        Path file;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            file = writer.file();
        }
        // tensorflow.Event encoded by hand: wall_time is field 1 (fixed64), file_version field 3 (bytes).
        ByteArrayOutputStream event = new ByteArrayOutputStream();
        event.write(0x09);
        event.writeBytes(littleEndian(8).putDouble(1718000000.25).array());
        event.write(0x1a);
        event.write(13);
        event.writeBytes("brain.Event:2".getBytes(StandardCharsets.US_ASCII));
        byte[] data = event.toByteArray();
        byte[] length = littleEndian(8).putLong(data.length).array();

        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(length);
        record.writeBytes(littleEndian(4).putInt(MaskedCrc32c.of(length)).array());
        record.writeBytes(data);
        record.writeBytes(littleEndian(4).putInt(MaskedCrc32c.of(data)).array());

        assertArrayEquals(record.toByteArray(), Files.readAllBytes(file));
    }

    @Test
    void fileCutAnywhereInTheLastRecordKeepsEveryEarlierRecordReadable() throws IOException {
        Path file;
        long beforeLast;
        long complete;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            for (int step = 1; step <= 4; step++) {
                writer.writeScalars(step, CREATED, scalarsAt(step));
            }
            file = writer.file();
            beforeLast = Files.size(file);
            writer.writeScalars(5, CREATED, scalarsAt(5));
            complete = Files.size(file);
        }
        byte[] whole = Files.readAllBytes(file);

        for (long cut = beforeLast + 1; cut < complete; cut++) {
            Files.write(file, whole);
            try (RandomAccessFile crashed = new RandomAccessFile(file.toFile(), "rw")) {
                crashed.setLength(cut);
            }

            TensorBoardEventReader.Contents contents = TensorBoardEventReader.read(file);

            assertTrue(contents.truncatedTail(), "cut at byte " + cut);
            assertEquals(5, contents.events().size(), "the version event and steps 1-4, cut at byte " + cut);
            assertEquals(4, contents.events().get(4).getStep());
        }
    }

    @Test
    void corruptedRecordFailsItsCrc() throws IOException {
        Path file;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            writer.writeScalars(1, CREATED, scalarsAt(1));
            file = writer.file();
        }
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 6] ^= 1;
        Files.write(file, bytes);

        IOException e = assertThrows(IOException.class, () -> TensorBoardEventReader.read(file));
        assertTrue(e.getMessage().contains("data CRC"), e.getMessage());
    }

    @Test
    void nonFiniteValuesAreWrittenAsTheyAre() throws IOException {
        Path file;
        try (TensorBoardEventWriter writer = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            Map<String, Double> scalars = new LinkedHashMap<>();
            scalars.put("ppo/value_loss", Double.NaN);
            scalars.put("ppo/approx_kl", Double.POSITIVE_INFINITY);
            writer.writeScalars(1, CREATED, scalars);
            file = writer.file();
        }

        List<Summary.Value> values = TensorBoardEventReader.read(file).events().get(1).getSummary().getValueList();

        assertTrue(Float.isNaN(values.get(0).getSimpleValue()));
        assertEquals(Float.POSITIVE_INFINITY, values.get(1).getSimpleValue());
    }

    @Test
    void refusesToOverwriteAnExistingEventFile() throws IOException {
        try (TensorBoardEventWriter first = TensorBoardEventWriter.create(dir, CREATED, "trainer")) {
            first.writeScalars(1, CREATED, scalarsAt(1));
            long size = Files.size(first.file());

            assertThrows(FileAlreadyExistsException.class,
                    () -> TensorBoardEventWriter.create(dir, CREATED, "trainer"));
            assertEquals(size, Files.size(first.file()));
        }
    }

    private static Map<String, Double> scalarsAt(int step) {
        Map<String, Double> scalars = new LinkedHashMap<>();
        scalars.put("reward/rm_mean", 0.1 * step);
        scalars.put("kl/to_reference", 0.003 * step * step);
        scalars.put("ppo/clip_fraction", 1.0 / (step + 2));
        scalars.put("perf/tokens_per_s", 12345.678 + step);
        scalars.put("time/rollout_s", -step / 7.0);
        return scalars;
    }

    private static List<Summary.Value> expectedValues(Map<String, Double> scalars) {
        return scalars.entrySet().stream()
                .map(e -> Summary.Value.newBuilder()
                        .setTag(e.getKey())
                        .setSimpleValue(e.getValue().floatValue())
                        .build())
                .toList();
    }

    private static ByteBuffer littleEndian(int capacity) {
        return ByteBuffer.allocate(capacity).order(ByteOrder.LITTLE_ENDIAN);
    }
}
