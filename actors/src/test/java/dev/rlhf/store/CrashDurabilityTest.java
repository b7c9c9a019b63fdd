package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class CrashDurabilityTest {

    private static final int WRITER_THREADS = 8;
    private static final int ACKS_BEFORE_KILL = 400;

    @TempDir Path dir;

    @Test
    @Timeout(value = 90, unit = TimeUnit.SECONDS)
    void everyAcknowledgedJudgmentSurvivesKillNineAndNothingIsHalfWritten() throws Exception {
        Path db = dir.resolve("db");
        Path childLog = dir.resolve("child-stderr.log");
        Process child = new ProcessBuilder(ChildJvm.command(List.of("-Xmx256m"),
                        JudgmentWriterProcess.class, db.toString(), Integer.toString(WRITER_THREADS)))
                .redirectError(childLog.toFile())
                .start();

        Map<String, Long> acked = new LinkedHashMap<>();
        try (BufferedReader lines = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            // Other stdout lines (logging set-up chatter) are not part of the protocol and are skipped.
            String line = lines.readLine();
            while (line != null && !line.equals("READY")) {
                line = lines.readLine();
            }
            assertEquals("READY", line, () -> "child did not start: " + childLog(childLog));
            while (acked.size() < ACKS_BEFORE_KILL && (line = lines.readLine()) != null) {
                record(acked, line);
            }
            assertEquals(ACKS_BEFORE_KILL, acked.size(), () -> "child died early: " + childLog(childLog));

            // SIGKILL on Linux: no shutdown hook, no close(), writes in flight are cut off. Through the
            // ProcessHandle, unlike Process.destroyForcibly, our end of the pipe stays open to drain.
            assertTrue(child.toHandle().destroyForcibly(), "could not send SIGKILL");
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not die");
            // Lines already in the pipe were printed after their acks and count as acknowledged too.
            while ((line = lines.readLine()) != null) {
                record(acked, line);
            }
        }
        assertEquals(137, child.exitValue(), "the child must have been killed by SIGKILL");

        try (PreferenceStore store = PreferenceStore.open(settings(dir))) {
            for (Map.Entry<String, Long> ack : acked.entrySet()) {
                Judgment judgment = store.judgment(ack.getKey())
                        .orElseThrow(() -> new AssertionError("acknowledged judgment " + ack.getKey() + " is lost"));
                assertEquals(ack.getValue(), judgment.getSequence(), "sequence of " + ack.getKey());
                assertTrue(judgment.getSubmission().getRationale().startsWith("because "));
            }
            assertEquals(List.of(), store.integrityProblems(), "no record may be half-written");
            long last = store.lastSequence();
            List<Judgment> log = store.judgmentsSince(0, (int) last + 1);
            assertEquals(last, log.size(), "the log holds every sequence from 1 to the last, no more");
            for (int i = 0; i < log.size(); i++) {
                assertEquals(i + 1, log.get(i).getSequence(), "the log has no gaps");
            }
            assertTrue(last >= acked.size(), "last sequence " + last + " below " + acked.size() + " acks");
        }
    }

    private static void record(Map<String, Long> acked, String line) {
        String[] parts = line.split(" ");
        if (parts.length == 3 && parts[0].equals("ACK")) {
            acked.put(parts[1], Long.parseLong(parts[2]));
        }
    }

    private static String childLog(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
