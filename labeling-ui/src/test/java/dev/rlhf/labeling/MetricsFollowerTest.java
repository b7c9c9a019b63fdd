package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsFollowerTest {

    @TempDir
    Path dir;

    private void append(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Test
    void aFileCreatedLateIsReadFromItsStart() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        MetricsFollower follower = new MetricsFollower(file);
        assertEquals(new MetricsFollower.Poll(false, List.of()), follower.poll(), "no file yet reads as empty");
        append(file, "{\"iteration\":1}\n{\"iteration\":2}\n");
        assertEquals(List.of("{\"iteration\":1}", "{\"iteration\":2}"), follower.poll().lines());
        assertEquals(List.of(), follower.poll().lines(), "nothing new");
    }

    @Test
    void aPartialLastLineWaitsForItsNewline() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        MetricsFollower follower = new MetricsFollower(file);
        append(file, "{\"iteration\":1}\n{\"itera");
        assertEquals(List.of("{\"iteration\":1}"), follower.poll().lines());
        append(file, "tion\":2,\"kl\":0.5}");
        assertEquals(List.of(), follower.poll().lines(), "still no newline");
        append(file, "\n\n{\"iteration\":3}\n");
        assertEquals(List.of("{\"iteration\":2,\"kl\":0.5}", "{\"iteration\":3}"), follower.poll().lines(),
                "the completed line whole, blank lines left out");
    }

    @Test
    void aTruncatedOrRewrittenFileIsReadAgainFromTheStart() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        MetricsFollower follower = new MetricsFollower(file);
        append(file, "{\"iteration\":1}\n{\"iteration\":2}\n{\"iteration\":3}\n");
        assertEquals(3, follower.poll().lines().size());

        Files.writeString(file, "{\"iteration\":1}\n", StandardCharsets.UTF_8);
        MetricsFollower.Poll shrunk = follower.poll();
        assertTrue(shrunk.restarted(), "a shorter file is a new one");
        assertEquals(List.of("{\"iteration\":1}"), shrunk.lines());

        // --resume rewrote it and it grew past the old length before the next poll
        Files.writeString(file, "{\"iteration\":1,\"resumed\":true}\n{\"iteration\":2}\n{\"iteration\":3}\n",
                StandardCharsets.UTF_8);
        MetricsFollower.Poll rewritten = follower.poll();
        assertTrue(rewritten.restarted(), "a changed first line means the file was rewritten");
        assertEquals(3, rewritten.lines().size());
        assertFalse(follower.poll().restarted());
    }

    @Test
    void aDeletedFileRestartsTheStream() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        MetricsFollower follower = new MetricsFollower(file);
        append(file, "{\"iteration\":1}\n");
        follower.poll();
        Files.delete(file);
        assertTrue(follower.poll().restarted());
        append(file, "{\"iteration\":1}\n");
        assertEquals(List.of("{\"iteration\":1}"), follower.poll().lines());
    }

    @Test
    void theDashboardStreamSaysWhetherThereIsARunAndSendsEachIteration() throws IOException {
        List<String> none = new DashboardEvents(Optional.empty(), java.time.Duration.ofSeconds(1)).poll();
        assertTrue(none.stream().anyMatch(f -> f.equals("event: run\ndata: {\"run\":false}\n\n")), none.toString());

        Path run = dir.resolve("run-1");
        Files.createDirectories(run.resolve("reward-models/v1"));
        Files.writeString(run.resolve("reward-models/v1/reward_model.json"),
                "{\"version\":1,\"metrics\":{\"held_out_accuracy\":0.7,\"accuracy_against_gold\":0.65}}");
        append(run.resolve("metrics.jsonl"), "{\"iteration\":1,\"kl/to_reference\":NaN}\nnot json\n");
        List<String> frames = new DashboardEvents(Optional.of(run), java.time.Duration.ofSeconds(1)).poll();
        assertTrue(frames.contains("event: run\ndata: {\"run\":true,\"name\":\"run-1\"}\n\n"), frames.toString());
        assertTrue(frames.contains("event: metrics\ndata: {\"iteration\":1,\"kl/to_reference\":null}\n\n"),
                "NaN becomes null, a malformed line is skipped: " + frames);
        assertTrue(frames.contains("event: reward_models\ndata: [{\"version\":1,\"held_out_accuracy\":0.7,"
                + "\"accuracy_against_gold\":0.65}]\n\n"), frames.toString());
    }

    @Test
    void aQuietStreamSendsAKeepaliveCommentEveryFifteenSeconds() {
        DashboardEvents events = new DashboardEvents(Optional.empty(), java.time.Duration.ofSeconds(5));
        events.poll();
        assertEquals(List.of(), events.poll());
        assertEquals(List.of(), events.poll());
        assertEquals(List.of(": keepalive\n\n"), events.poll(), "the third quiet poll of 5 s");
    }
}
