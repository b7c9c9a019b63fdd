package dev.rlhf.experiment;

/** A prompt file could not be read; the message names the file and, where one is to blame, the line and field. */
public final class PromptFileException extends IllegalArgumentException {

    PromptFileException(String message) {
        super(message);
    }
}
