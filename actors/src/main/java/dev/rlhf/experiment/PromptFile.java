package dev.rlhf.experiment;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.rlhf.store.PreferenceFormat;
import dev.rlhf.store.PreferenceJsonl;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The prompts of an experiment, read from a file a research team supplies ({@code rlhf.experiment.prompts}). The
 * format is told by the first non-blank line: JSONL when it starts with an opening brace, plain text otherwise.
 *
 * <ul>
 *   <li>JSONL: one JSON object a line, its {@code "prompt"} string the prompt (TRL preference lines included), or,
 *       without one, its HH-RLHF {@code "chosen"} transcript up to and including the last {@code "\n\nAssistant:"},
 *       so the policy continues as the assistant.
 *   <li>Plain text: one prompt a line.
 * </ul>
 *
 * <p>Either way the file is UTF-8, blank lines are skipped and a line's trailing {@code "\r"} is removed.
 */
public final class PromptFile {

    private PromptFile() {}

    /**
     * Reads every prompt of {@code file}, in file order.
     *
     * @throws PromptFileException naming the file, the line (1-based) and the field: the file cannot be read, is
     *     not UTF-8 or holds no prompts, or a JSONL line is not a JSON object with a non-blank {@code "prompt"}
     *     string or a {@code "chosen"} string with an assistant turn
     */
    public static List<String> read(Path file) {
        String[] lines = decode(file).split("\n", -1);
        boolean jsonl = false;
        for (String line : lines) {
            if (!line.isBlank()) {
                jsonl = line.stripLeading().startsWith("{");
                break;
            }
        }
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            if (line.isBlank()) {
                continue;
            }
            try {
                prompts.add(jsonl ? prompt(PreferenceJsonl.jsonObject(line)) : line);
            } catch (IllegalArgumentException e) {
                throw new PromptFileException(file + " line " + (i + 1) + ": " + e.getMessage());
            }
        }
        if (prompts.isEmpty()) {
            throw new PromptFileException("prompt file " + file + " holds no prompts");
        }
        return prompts;
    }

    /** The whole file as text, any byte order mark dropped. */
    private static String decode(Path file) {
        ByteBuffer bytes;
        try {
            bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new PromptFileException("prompt file " + file + " cannot be read: "
                    + (e instanceof NoSuchFileException ? "no such file" : e.toString()));
        }
        String text;
        try {
            // a decoder of its own reports malformed input, where String's constructor would replace it
            text = StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
        } catch (CharacterCodingException e) {
            // the failed decode leaves the buffer at the malformed bytes
            int line = 1;
            for (int at = 0; at < bytes.position(); at++) {
                line += bytes.get(at) == '\n' ? 1 : 0;
            }
            throw new PromptFileException(file + " line " + line + ": not UTF-8");
        }
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    /** The prompt one JSONL line holds. */
    private static String prompt(JsonObject json) {
        if (json.has("prompt")) {
            String prompt = string(json, "prompt");
            if (prompt.isBlank()) {
                throw new IllegalArgumentException("\"prompt\" is blank");
            }
            return prompt;
        }
        if (!json.has("chosen")) {
            throw new IllegalArgumentException("no \"prompt\" or \"chosen\" field");
        }
        String chosen = string(json, "chosen");
        int lastTurn = chosen.lastIndexOf(PreferenceFormat.ASSISTANT);
        if (lastTurn < 0) {
            throw new IllegalArgumentException("\"chosen\" has no \"\\n\\nAssistant:\" turn");
        }
        return chosen.substring(0, lastTurn + PreferenceFormat.ASSISTANT.length());
    }

    private static String string(JsonObject json, String field) {
        JsonElement value = json.get(field);
        if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("\"" + field + "\" is not a string");
        }
        return value.getAsString();
    }
}
