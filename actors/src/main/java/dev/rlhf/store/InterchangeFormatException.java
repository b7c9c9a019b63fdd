package dev.rlhf.store;

/** A JSONL line could not be read as a preference pair; the message names the line and the field. */
public final class InterchangeFormatException extends RuntimeException {

    InterchangeFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
