package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.store.PreferenceJsonl;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import dev.rlhf.testing.ChildJvm;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code rlhf label} as its own process, with annotators streaming judgments into it over HTTP: killed with SIGKILL
 * it loses no acknowledged judgment and leaves no record half-written; stopped with SIGTERM it exits promptly and
 * leaves the store to open cleanly. Its first stdout lines are a contract, checked here too.
 */
class LabelProcessCrashTest {
    private static final Pattern ADMIN_TOKEN = Pattern.compile("admin token: (\\S+)");
    private static final Pattern GRPC = Pattern.compile("grpc listening on 127\\.0\\.0\\.1:(\\d+)");
    private static final Pattern UI = Pattern.compile("labeling ui listening on (http://127\\.0\\.0\\.1:\\d+/)");
    private static final int TASKS = 300;
    private static final int ANNOTATORS = 4;
    private static final int ACKS_BEFORE_KILL = 150;

    @TempDir Path dir;

    private Process child;

    @AfterEach
    void killTheChild() throws InterruptedException {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void killNineWhileJudgmentsStreamInLosesNoAcknowledgedJudgment() throws Exception {
        Path store = dir.resolve("preferences");
        List<String> tokens = prepare(store);
        Path stderr = dir.resolve("label-stderr.log");
        BlockingQueue<String> stdout = start(store, stderr);
        URI ui = awaitStartLines(stdout, stderr, true);

        ConcurrentLinkedQueue<LabelingLoad.Ack> acks = new ConcurrentLinkedQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> annotators = annotate(ui, tokens, acks, stop);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (acks.size() < ACKS_BEFORE_KILL && child.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertTrue(acks.size() >= ACKS_BEFORE_KILL, () -> "only " + acks.size() + " acks; " + log(stderr));
        // SIGKILL on Linux: no shutdown hook, no close(); requests in flight are cut off
        assertTrue(child.toHandle().destroyForcibly(), "could not send SIGKILL");
        assertTrue(child.waitFor(30, TimeUnit.SECONDS), "label did not die");
        stop.set(true);
        for (Thread t : annotators) {
            t.join(TimeUnit.SECONDS.toMillis(40));
        }

        assertEquals(137, child.exitValue(), "killed by SIGKILL (128 + 9)");
        System.out.printf("label killed after %d acknowledged judgments%n", acks.size());
        assertAllStoredOnce(store, List.copyOf(acks));
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void sigtermStopsLabelPromptlyAndTheStoreOpensCleanlyWithoutASecondAdminToken() throws Exception {
        Path store = dir.resolve("preferences");
        List<String> tokens = prepare(store);
        Path stderr = dir.resolve("label-stderr.log");
        BlockingQueue<String> stdout = start(store, stderr);
        URI ui = awaitStartLines(stdout, stderr, true);
        AnnotatorSession alice = AnnotatorSession.signIn(HttpClient.newHttpClient(), ui, tokens.get(0));
        List<LabelingLoad.Ack> acks = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String task = alice.nextTask().orElseThrow();
            String id = UUID.randomUUID().toString();
            acks.add(new LabelingLoad.Ack(alice.annotator(), id, task, alice.submit(id, task, i % 2 == 0 ? "a" : "b")));
        }

        long stopping = System.nanoTime();
        child.destroy(); // SIGTERM
        assertTrue(child.waitFor(20, TimeUnit.SECONDS), "label did not exit within 20 s of SIGTERM");
        long stopMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stopping);

        // the JVM's status for a SIGTERM it handled with its shutdown hooks, as rlhf serve's
        assertEquals(143, child.exitValue(), () -> "exit status after SIGTERM (128 + 15); " + log(stderr));
        System.out.printf("label stopped %d ms after SIGTERM%n", stopMillis);
        assertTrue(stopMillis < 10_000, "stopped in " + stopMillis + " ms");
        String log = Files.readString(stderr);
        assertTrue(!log.contains("Exception"), "no exception on the way down; stderr:\n" + log);
        assertAllStoredOnce(store, acks);

        // the store has its admin now: a second start prints no token, and stops as cleanly
        Path stderrAgain = dir.resolve("label-stderr-2.log");
        awaitStartLines(start(store, stderrAgain), stderrAgain, false);
        child.destroy();
        assertTrue(child.waitFor(20, TimeUnit.SECONDS), "label did not exit within 20 s of SIGTERM");
        assertEquals(143, child.exitValue(), () -> "exit status after SIGTERM; " + log(stderrAgain));
        assertAllStoredOnce(store, acks);
    }

    /**
     * Imports {@value #TASKS} pairs as tasks and registers {@value #ANNOTATORS} annotators (no admin, so label makes
     * one); returns their tokens. The store is closed again.
     */
    private static List<String> prepare(Path storeDir) throws IOException {
        StringBuilder pairs = new StringBuilder();
        for (int i = 0; i < TASKS; i++) {
            pairs.append(String.format("{\"id\": \"t%03d\", \"prompt\": \"Review hotel %d.\", \"response_a\": \"Clean"
                    + " and quiet.\", \"response_b\": \"Noisy, cold breakfast.\"}%n", i, i));
        }
        List<String> tokens = new ArrayList<>();
        try (PreferenceStore store = open(storeDir)) {
            new PreferenceJsonl(store).importPairs(new StringReader(pairs.toString()), "test");
            for (int a = 1; a <= ANNOTATORS; a++) {
                tokens.add(store.addAnnotator("annotator-" + a, false).join());
            }
        }
        return tokens;
    }

    /** Starts {@code rlhf label --port 0} on the store; its stdout lines arrive on the queue. */
    private BlockingQueue<String> start(Path store, Path stderr) throws IOException {
        child = new ProcessBuilder(ChildJvm.command(List.of("-Xmx512m"), RlhfCli.class,
                        "label", "--store", store.toString(), "--port", "0"))
                .redirectError(stderr.toFile())
                .start();
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Process process = child;
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    lines.add(line);
                }
            } catch (IOException e) {
                lines.add("(stdout failed: " + e + ")");
            }
        }, "label-stdout");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    /**
     * Checks the first stdout lines: {@code admin token: TOKEN} when the store has no admin yet (and that the token
     * signs in an admin), then the gRPC and the UI addresses. Returns the UI's address.
     */
    private static URI awaitStartLines(BlockingQueue<String> stdout, Path stderr, boolean firstStart)
            throws Exception {
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < (firstStart ? 3 : 2); i++) {
            String line = stdout.poll(60, TimeUnit.SECONDS);
            assertNotNull(line, () -> "label printed " + lines + " and then nothing; " + log(stderr));
            lines.add(line);
        }
        int at = firstStart ? 1 : 0;
        Matcher ui = UI.matcher(lines.get(at + 1));
        assertTrue(GRPC.matcher(lines.get(at)).matches() && ui.matches(), () -> "label's first lines: " + lines);
        URI address = URI.create(ui.group(1));
        if (firstStart) {
            Matcher admin = ADMIN_TOKEN.matcher(lines.get(0));
            assertTrue(admin.matches(), () -> "label's first lines: " + lines);
            assertTrue(AnnotatorSession.signIn(HttpClient.newHttpClient(), address, admin.group(1)).admin(),
                    "the printed token signs in an admin");
        }
        return address;
    }

    /** One thread per token judging task after task until {@code stop} or the first failed request. */
    private static List<Thread> annotate(URI ui, List<String> tokens, ConcurrentLinkedQueue<LabelingLoad.Ack> acks,
            AtomicBoolean stop) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        List<Thread> threads = new ArrayList<>();
        for (String token : tokens) {
            AnnotatorSession session = AnnotatorSession.signIn(http, ui, token);
            Thread t = new Thread(() -> {
                try {
                    while (!stop.get()) {
                        Optional<String> task = session.nextTask();
                        if (task.isEmpty()) {
                            return;
                        }
                        String id = UUID.randomUUID().toString();
                        long sequence = session.submit(id, task.get(), "tie");
                        acks.add(new LabelingLoad.Ack(session.annotator(), id, task.get(), sequence));
                    }
                } catch (IOException e) {
                    // the process died under the request: not acknowledged, whatever the store holds
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "annotator-" + session.annotator());
            t.start();
            threads.add(t);
        }
        return threads;
    }

    /** Every acknowledged judgment is in the reopened store exactly once, as given, and nothing is half-written. */
    private static void assertAllStoredOnce(Path storeDir, List<LabelingLoad.Ack> acks) {
        try (PreferenceStore store = open(storeDir)) {
            assertEquals(List.of(), store.integrityProblems(), "no record may be half-written");
            Map<String, List<Judgment>> byId = store.judgmentsSince(0, (int) store.lastSequence() + 1).stream()
                    .collect(Collectors.groupingBy(j -> j.getSubmission().getJudgmentId()));
            for (LabelingLoad.Ack ack : acks) {
                List<Judgment> stored = byId.getOrDefault(ack.judgmentId(), List.of());
                assertEquals(1, stored.size(), "acknowledged judgment " + ack + " is stored exactly once");
                assertEquals(ack.annotator(), stored.get(0).getSubmission().getAnnotatorId(), "annotator of " + ack);
                assertEquals(ack.taskId(), stored.get(0).getSubmission().getTaskId(), "task of " + ack);
                assertEquals(ack.sequence(), stored.get(0).getSequence(), "sequence of " + ack);
            }
            assertTrue(store.lastSequence() >= acks.size(), "last sequence " + store.lastSequence() + " below "
                    + acks.size() + " acks");
        }
    }

    private static PreferenceStore open(Path storeDir) {
        return PreferenceStore.open(PreferenceStoreSettings.fromConfig(CliContext.load().config()).withPath(storeDir));
    }

    private static String log(Path stderr) {
        try {
            return "stderr:\n" + Files.readString(stderr);
        } catch (IOException e) {
            return "(no stderr: " + e.getMessage() + ")";
        }
    }
}
