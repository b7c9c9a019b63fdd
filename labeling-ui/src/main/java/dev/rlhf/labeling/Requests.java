package dev.rlhf.labeling;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import dev.rlhf.proto.v1.Choice;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.regex.Pattern;

/** Reads and checks request bodies and parameters; each failure is a 400 naming the field. */
final class Requests {

    /** Longest id (judgment, task, annotator name) in UTF-8 bytes, as the store allows. */
    static final int MAX_ID_BYTES = 128;
    private static final int MAX_TOKEN_LENGTH = 512;
    private static final Pattern JUDGMENT_ID = Pattern.compile("[A-Za-z0-9_-]{8,128}");

    /** The choices the page sends, by their wire names. */
    static final Map<String, Choice> CHOICES = Map.of(
            "a", Choice.CHOICE_A,
            "b", Choice.CHOICE_B,
            "tie", Choice.CHOICE_TIE,
            "both_bad", Choice.CHOICE_BOTH_BAD,
            "skip", Choice.CHOICE_SKIP);

    private Requests() {
    }

    /**
     * A judgment as the page sends it: the choice is the screen side.
     *
     * @param judgmentId the page's UUID for it: resending it never makes a second judgment
     */
    record Submit(String judgmentId, String taskId, Choice screenChoice, OptionalInt strength,
            Optional<String> rationale) {
    }

    /** An annotator to add. */
    record NewAnnotator(String name, boolean admin) {
    }

    /** An admin's verdict on the true pair (candidate 0 as "a", 1 as "b"). */
    record Verdict(String taskId, Choice choice, Optional<String> note) {
    }

    static String signInToken(JsonObject body) {
        String token = string(body, "token", true);
        if (token.isEmpty() || token.length() > MAX_TOKEN_LENGTH) {
            throw ApiError.badRequest("token must be 1.." + MAX_TOKEN_LENGTH + " characters", "token");
        }
        return token;
    }

    static Submit submit(JsonObject body, int maxRationaleBytes) {
        String judgmentId = judgmentId(string(body, "judgmentId", true), "judgmentId");
        String taskId = id(string(body, "taskId", true), "taskId");
        Choice choice = choice(string(body, "choice", true), false);
        OptionalInt strength = OptionalInt.empty();
        JsonElement s = body.get("strength");
        if (s != null && !s.isJsonNull()) {
            if (!(s instanceof JsonPrimitive p) || !p.isNumber() || p.getAsDouble() != Math.rint(p.getAsDouble())
                    || p.getAsDouble() < 1 || p.getAsDouble() > 3) {
                throw ApiError.badRequest("strength must be 1, 2 or 3", "strength");
            }
            if (choice == Choice.CHOICE_SKIP) {
                throw ApiError.badRequest("a skip has no strength", "strength");
            }
            strength = OptionalInt.of(p.getAsInt());
        }
        Optional<String> rationale = Optional.ofNullable(string(body, "rationale", false)).map(String::strip)
                .filter(r -> !r.isEmpty());
        if (rationale.isPresent()) {
            int bytes = rationale.get().getBytes(StandardCharsets.UTF_8).length;
            if (bytes > maxRationaleBytes) {
                throw ApiError.badRequest("rationale is " + bytes + " bytes; at most " + maxRationaleBytes
                        + " are allowed", "rationale");
            }
            checkText(rationale.get(), "rationale");
        }
        return new Submit(judgmentId, taskId, choice, strength, rationale);
    }

    static String judgmentId(String value, String field) {
        if (value == null || !JUDGMENT_ID.matcher(value).matches()) {
            throw ApiError.badRequest(field + " must be 8..128 letters, digits, '-' or '_' (a UUID)", field);
        }
        return value;
    }

    static NewAnnotator newAnnotator(JsonObject body) {
        String name = id(string(body, "name", true).strip(), "name");
        JsonElement admin = body.get("admin");
        if (admin != null && !admin.isJsonNull()
                && !(admin instanceof JsonPrimitive p && p.isBoolean())) {
            throw ApiError.badRequest("admin must be true or false", "admin");
        }
        return new NewAnnotator(name, admin != null && !admin.isJsonNull() && admin.getAsBoolean());
    }

    static Verdict verdict(JsonObject body, int maxNoteBytes) {
        String taskId = id(string(body, "taskId", true), "taskId");
        Choice choice = choice(string(body, "choice", true), true);
        Optional<String> note = Optional.ofNullable(string(body, "note", false)).map(String::strip)
                .filter(n -> !n.isEmpty());
        if (note.isPresent() && note.get().getBytes(StandardCharsets.UTF_8).length > maxNoteBytes) {
            throw ApiError.badRequest("note is longer than " + maxNoteBytes + " bytes", "note");
        }
        note.ifPresent(n -> checkText(n, "note"));
        return new Verdict(taskId, choice, note);
    }

    /** An id in a path or body: 1..128 UTF-8 bytes, no control characters. */
    static String id(String value, String field) {
        if (value == null || value.isEmpty() || value.getBytes(StandardCharsets.UTF_8).length > MAX_ID_BYTES) {
            throw ApiError.badRequest(field + " must be 1.." + MAX_ID_BYTES + " bytes", field);
        }
        checkText(value, field);
        return value;
    }

    /** The {@code since} parameter of the progress route: an ISO-8601 instant. */
    static Instant since(Optional<String> value) {
        if (value.isEmpty()) {
            throw ApiError.badRequest("since is required (an ISO-8601 instant: the start of your day)", "since");
        }
        try {
            return Instant.parse(value.get());
        } catch (DateTimeParseException e) {
            throw ApiError.badRequest("since must be an ISO-8601 instant such as 2026-01-31T23:00:00Z", "since");
        }
    }

    /** A non-negative integer query parameter with a default. */
    static int intParam(Optional<String> value, String field, int dflt, int max) {
        if (value.isEmpty()) {
            return dflt;
        }
        try {
            int v = Integer.parseInt(value.get());
            if (v < 0 || v > max) {
                throw ApiError.badRequest(field + " must be 0.." + max, field);
            }
            return v;
        } catch (NumberFormatException e) {
            throw ApiError.badRequest(field + " must be an integer", field);
        }
    }

    private static Choice choice(String wire, boolean adjudication) {
        Choice c = CHOICES.get(wire);
        if (c == null || (adjudication && c == Choice.CHOICE_SKIP)) {
            throw ApiError.badRequest("choice must be one of " + (adjudication ? "a, b, tie, both_bad"
                    : "a, b, tie, both_bad, skip"), "choice");
        }
        return c;
    }

    private static String string(JsonObject body, String field, boolean required) {
        JsonElement e = body.get(field);
        if (e == null || e.isJsonNull()) {
            if (required) {
                throw ApiError.badRequest(field + " is required", field);
            }
            return null;
        }
        if (!(e instanceof JsonPrimitive p) || !p.isString()) {
            throw ApiError.badRequest(field + " must be a string", field);
        }
        return p.getAsString();
    }

    private static void checkText(String s, String field) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == 0 || (Character.isSurrogate(c) && !validSurrogate(s, i))) {
                throw ApiError.badRequest(field + " holds a NUL or a broken character", field);
            }
        }
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }
}
