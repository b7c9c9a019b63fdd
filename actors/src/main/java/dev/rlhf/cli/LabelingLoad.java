package dev.rlhf.cli;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Annotators working at once through the labeling UI's HTTP API, each on its own thread the way the annotator page
 * works: ask for a task, judge it, ask for the next, until the load's judgments are all given or the queue has
 * nothing left for them. Records every acknowledged judgment and the latency of every call; asserts nothing.
 */
final class LabelingLoad {
    /** Screen choices the annotators pick from (never skip: every judgment here is a preference). */
    private static final String[] CHOICES = {"a", "b", "tie", "both_bad"};

    /** A judgment the UI acknowledged (2xx): the store holds it durably. */
    record Ack(String annotator, String judgmentId, String taskId, long sequence) {}

    /**
     * What a load did.
     *
     * @param acknowledged every acknowledged judgment, in no particular order
     * @param submitMillis the latency of each acknowledged {@code POST /api/judgments}, sorted
     * @param nextTaskMillis the latency of each answered {@code GET /api/task}, sorted
     * @param errors each request that failed or was refused, in words
     * @param seconds wall time from the first request after sign-in to the last answer
     */
    record Result(List<Ack> acknowledged, double[] submitMillis, double[] nextTaskMillis, List<String> errors,
            double seconds) {}

    private LabelingLoad() {}

    /**
     * Signs every token in, then has them give {@code judgments} judgments in all, each annotator's choices drawn
     * from its own seeded stream.
     *
     * @param ui the UI's address, {@code http://HOST:PORT/}
     * @param tokens one token per annotator
     * @throws IOException if an annotator cannot sign in
     */
    static Result run(URI ui, List<String> tokens, int judgments, long seed) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        List<AnnotatorSession> sessions = new ArrayList<>();
        for (String token : tokens) {
            sessions.add(AnnotatorSession.signIn(http, ui, token));
        }
        AtomicInteger remaining = new AtomicInteger(judgments);
        List<Ack> acks = Collections.synchronizedList(new ArrayList<>());
        List<Double> submitMillis = Collections.synchronizedList(new ArrayList<>());
        List<Double> nextTaskMillis = Collections.synchronizedList(new ArrayList<>());
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(sessions.size());
        long start = System.nanoTime();
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < sessions.size(); i++) {
                AnnotatorSession session = sessions.get(i);
                Random choices = new Random(seed * 31 + i);
                running.add(pool.submit(() -> {
                    annotate(session, choices, remaining, acks, submitMillis, nextTaskMillis, errors);
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("an annotator thread failed", e.getCause());
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(List.copyOf(acks), sorted(submitMillis), sorted(nextTaskMillis), List.copyOf(errors),
                seconds);
    }

    /** One annotator's loop; a failed request ends it, since the page would stop there too. */
    private static void annotate(AnnotatorSession session, Random choices, AtomicInteger remaining, List<Ack> acks,
            List<Double> submitMillis, List<Double> nextTaskMillis, List<String> errors) throws InterruptedException {
        try {
            while (remaining.getAndDecrement() > 0) {
                long asked = System.nanoTime();
                Optional<String> task = session.nextTask();
                nextTaskMillis.add(millisSince(asked));
                if (task.isEmpty()) {
                    remaining.incrementAndGet(); // nothing left for this annotator; the others may still judge
                    return;
                }
                String judgmentId = UUID.randomUUID().toString();
                long sent = System.nanoTime();
                long sequence = session.submit(judgmentId, task.get(), CHOICES[choices.nextInt(CHOICES.length)]);
                submitMillis.add(millisSince(sent));
                acks.add(new Ack(session.annotator(), judgmentId, task.get(), sequence));
            }
        } catch (IOException e) {
            errors.add(session.annotator() + ": " + e.getMessage());
        }
    }

    private static double millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e6;
    }

    private static double[] sorted(List<Double> values) {
        synchronized (values) {
            return values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        }
    }

    /** Nearest-rank percentile of sorted values; NaN for none. */
    static double percentile(double[] sorted, double q) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, rank - 1)];
    }
}
