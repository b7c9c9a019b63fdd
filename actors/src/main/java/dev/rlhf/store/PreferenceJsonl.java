package dev.rlhf.store;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Prompt;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Exports the store's judgments to, and imports preference pairs from, JSONL in a {@link
 * PreferenceFormat}, and imports unlabeled pairs for annotators to judge ({@link #importPairs}). Only
 * standing A/B judgments are exported (ties, both-bad, skips and retracted judgments have no place in
 * these formats), in sequence order, one line each. Imported ids derive from the content, so importing
 * a file twice adds nothing the second time.
 */
public final class PreferenceJsonl {

    /**
     * What an import did.
     *
     * @param lines pairs read
     * @param newJudgments judgments (for {@link #importPairs}, tasks) the store did not hold before
     */
    public record ImportSummary(long lines, long newJudgments) {}

    private static final int PAGE = 1000;
    private static final int IMPORT_WINDOW = 1000;

    private final PreferenceStore store;
    private final Gson gson = new GsonBuilder().disableHtmlEscaping().create();

    public PreferenceJsonl(PreferenceStore store) {
        this.store = store;
    }

    /**
     * Writes every A/B judgment as one line of {@code format}.
     *
     * @return the number of lines written
     * @throws IOException if writing fails
     */
    public long export(PreferenceFormat format, Writer out) throws IOException {
        long lines = 0;
        for (Iterator<String> it = exportLines(format); it.hasNext(); lines++) {
            out.write(it.next());
            out.write('\n');
        }
        out.flush();
        return lines;
    }

    /**
     * Every A/B judgment as one line of {@code format} (without its newline), produced lazily: the store is read a
     * page of judgments at a time as the lines are consumed, so a slow consumer holds at most one page. A judgment
     * acknowledged while the lines are read may or may not appear. {@code hasNext} and {@code next} throw what the
     * store's reads throw ({@link StoreUnavailableException} once it is closed).
     */
    public Iterator<String> exportLines(PreferenceFormat format) {
        return new ExportLines(format);
    }

    /** Reads the judgment log page by page and turns each A/B judgment into a line. */
    private final class ExportLines implements Iterator<String> {
        private final PreferenceFormat format;
        private final Map<String, ComparisonTask> tasks = new HashMap<>();
        private final Map<String, Prompt> prompts = new HashMap<>();
        private Iterator<Judgment> page = Collections.emptyIterator();
        private long after;
        private boolean exhausted;
        private String nextLine;

        ExportLines(PreferenceFormat format) {
            this.format = format;
        }

        @Override
        public boolean hasNext() {
            while (nextLine == null && !exhausted) {
                if (!page.hasNext()) {
                    List<Judgment> judgments = store.judgmentsSince(after, PAGE);
                    exhausted = judgments.isEmpty();
                    page = judgments.iterator();
                    continue;
                }
                Judgment judgment = page.next();
                after = judgment.getSequence();
                nextLine = line(judgment);
            }
            return nextLine != null;
        }

        @Override
        public String next() {
            if (!hasNext()) {
                throw new NoSuchElementException("every judgment has been exported");
            }
            String line = nextLine;
            nextLine = null;
            return line;
        }

        /** The judgment's line, or null for a tie, both bad, skip or retracted judgment. */
        private String line(Judgment judgment) {
            JudgmentSubmission s = judgment.getSubmission();
            if (s.getChoice() != Choice.CHOICE_A && s.getChoice() != Choice.CHOICE_B
                    || store.retraction(s.getJudgmentId()).isPresent()) {
                return null;
            }
            ComparisonTask task = tasks.computeIfAbsent(s.getTaskId(), id -> store.task(id).orElseThrow(
                    () -> new IllegalStateException("judgment " + s.getJudgmentId() + " names missing task " + id)));
            Prompt prompt = prompts.computeIfAbsent(task.getPromptId(), id -> store.prompt(id).orElseThrow(
                    () -> new IllegalStateException("task " + task.getTaskId() + " names missing prompt " + id)));
            boolean aWins = s.getChoice() == Choice.CHOICE_A;
            String a = task.getCandidates(s.getCandidateA()).getText();
            String b = task.getCandidates(s.getCandidateB()).getText();
            PreferencePair pair = new PreferencePair(prompt.getText(), aWins ? a : b, aWins ? b : a);
            return gson.toJson(format.toJson(pair));
        }
    }

    /**
     * Reads {@code format} lines and stores each as a prompt, a two-candidate task (chosen first,
     * both with policy version {@code source}) and a CHOICE_A judgment by {@code annotatorId}.
     * Blank lines are ignored. Every line is checked before anything is written: a file with any bad
     * line stores nothing.
     *
     * @throws InterchangeFormatException listing every malformed line as {@code line N: reason}
     * @throws IOException if reading fails
     */
    public ImportSummary importFrom(PreferenceFormat format, Reader in, String annotatorId, String source)
            throws IOException {
        Keys.requireValidId(annotatorId, "annotator_id");
        List<PreferencePair> pairs = everyLine(in, format + " import refused, nothing stored: ", "",
                line -> format.fromJson(JsonParser.parseString(line).getAsJsonObject()));
        long before = store.lastSequence();
        List<CompletableFuture<JudgmentAck>> window = new ArrayList<>();
        long added = 0;
        for (PreferencePair pair : pairs) {
            window.add(store(pair, annotatorId, source));
            if (window.size() >= IMPORT_WINDOW) {
                added += countNew(window, before);
            }
        }
        added += countNew(window, before);
        return new ImportSummary(pairs.size(), added);
    }

    /**
     * Reads unlabeled pairs, {@code {"prompt": p, "response_a": a, "response_b": b}} with an optional {@code "id"},
     * and stores each as a prompt and a two-candidate task (a then b, both with policy version {@code source}) and no
     * judgment, for annotators to judge. The task id is {@code "id"} when given, else derived from the content
     * (SHA-256), so importing the same file again adds nothing. Blank lines are ignored. Every line is checked before
     * anything is written: a file with any bad line stores nothing.
     *
     * @return lines read and tasks the store did not hold before
     * @throws InterchangeFormatException listing every bad line as {@code line N: reason} (malformed JSON, a missing
     *     or non-string field, an invalid id, an id given twice or already stored with other content)
     * @throws IOException if reading fails
     */
    public ImportSummary importPairs(Reader in, String source) throws IOException {
        Map<String, ComparisonTask> byId = new HashMap<>();
        List<UnlabeledPair> pairs = everyLine(in, "pairs import refused, nothing stored: ", "", line -> {
            UnlabeledPair pair = UnlabeledPair.parse(line, source);
            ComparisonTask earlier = byId.putIfAbsent(pair.task().getTaskId(), pair.task());
            if (earlier != null && !earlier.equals(pair.task())) {
                throw new IllegalArgumentException("id " + pair.task().getTaskId()
                        + " was given to another pair on an earlier line");
            }
            store.task(pair.task().getTaskId())
                    .filter(stored -> !stored.toBuilder().clearCreatedAt().build().equals(pair.task()))
                    .ifPresent(stored -> {
                        throw new IllegalArgumentException("id " + stored.getTaskId()
                                + " is already stored with other content");
                    });
            return pair;
        });
        long added = 0;
        List<CompletableFuture<Boolean>> window = new ArrayList<>();
        for (UnlabeledPair pair : pairs) {
            boolean isNew = store.task(pair.task().getTaskId()).isEmpty();
            store.addPrompt(pair.prompt());
            window.add(store.addTask(pair.task()).thenApply(task -> isNew));
            if (window.size() >= IMPORT_WINDOW) {
                added += window.stream().filter(CompletableFuture::join).count();
                window.clear();
            }
        }
        added += window.stream().filter(CompletableFuture::join).count();
        return new ImportSummary(pairs.size(), added);
    }

    /**
     * The pairs of a {@code format} file, for a caller that trains or evaluates on them rather than storing them.
     * Blank lines are ignored; every line is checked before any pair is returned.
     *
     * @param source how errors name the file
     * @throws InterchangeFormatException listing every malformed line as {@code SOURCE line N: reason}, the reason
     *     naming the field (a line that is not a JSON object, a missing or non-string field)
     * @throws IOException if reading fails
     */
    public static List<PreferencePair> read(PreferenceFormat format, Reader in, String source) throws IOException {
        return everyLine(in, "", source + " ", line -> format.fromJson(jsonObject(line)));
    }

    /**
     * The JSON object a JSONL line holds.
     *
     * @throws IllegalArgumentException saying the line is not JSON (and at which column) or not a JSON object
     */
    public static JsonObject jsonObject(String line) {
        JsonElement json;
        try {
            json = JsonParser.parseString(line);
        } catch (JsonParseException e) {
            // Gson's message spans lines and advises leniency; the column is what helps
            Matcher column = Pattern.compile("column (\\d+)").matcher(String.valueOf(e.getMessage()));
            throw new IllegalArgumentException("not JSON" + (column.find() ? " (malformed at column "
                    + column.group(1) + ")" : ""));
        }
        if (!json.isJsonObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return json.getAsJsonObject();
    }

    /** Waits for the window's acks and empties it; a resubmission is acknowledged with its old sequence. */
    private static long countNew(List<CompletableFuture<JudgmentAck>> window, long sequenceBefore) {
        long added = window.stream().map(CompletableFuture::join).filter(ack -> ack.sequence() > sequenceBefore).count();
        window.clear();
        return added;
    }

    /** Reads one line of an import into what it stores; throws naming what is wrong with the line. */
    private interface LineReader<T> {
        T read(String line);
    }

    /**
     * Every non-blank line of {@code in}, read by {@code reader}; all are checked before any is returned.
     *
     * @param refusal what the error message starts with
     * @param where what each bad line's entry starts with, before {@code line N}
     * @throws InterchangeFormatException listing every bad line as {@code line N: reason}
     */
    private static <T> List<T> everyLine(Reader in, String refusal, String where, LineReader<T> reader)
            throws IOException {
        List<T> read = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        BufferedReader lines = new BufferedReader(in);
        long lineNumber = 0;
        for (String line = lines.readLine(); line != null; line = lines.readLine()) {
            lineNumber++;
            if (line.isBlank()) {
                continue;
            }
            try {
                read.add(reader.read(line));
            } catch (JsonParseException | IllegalStateException | IllegalArgumentException
                    | ChangeRejectedException e) {
                errors.add(where + "line " + lineNumber + ": " + e.getMessage());
            }
        }
        if (!errors.isEmpty()) {
            throw new InterchangeFormatException(refusal + String.join("; ", errors), null);
        }
        return read;
    }

    /** Queues the three changes in order; the writer runs them in order, so none waits for the last. */
    private CompletableFuture<JudgmentAck> store(PreferencePair pair, String annotatorId, String source) {
        String promptId = "p-" + digest(pair.prompt());
        String taskId = "t-" + digest(pair.prompt() + '\0' + pair.chosen() + '\0' + pair.rejected());
        CompletableFuture<Prompt> prompt = store.addPrompt(
                Prompt.newBuilder().setPromptId(promptId).setText(pair.prompt()).build());
        CompletableFuture<ComparisonTask> task = store.addTask(ComparisonTask.newBuilder()
                .setTaskId(taskId)
                .setPromptId(promptId)
                .addCandidates(Candidate.newBuilder().setText(pair.chosen()).setPolicyVersion(source))
                .addCandidates(Candidate.newBuilder().setText(pair.rejected()).setPolicyVersion(source))
                .build());
        CompletableFuture<JudgmentAck> judgment = store.submitJudgment(JudgmentSubmission.newBuilder()
                .setJudgmentId("j-" + digest(taskId + '\0' + annotatorId))
                .setTaskId(taskId)
                .setAnnotatorId(annotatorId)
                .setChoice(Choice.CHOICE_A)
                .build());
        return CompletableFuture.allOf(prompt, task).thenCompose(done -> judgment);
    }

    /** First 128 bits of SHA-256, in hex: ids that are stable across imports and well under the id limit. */
    static String digest(String text) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
