package dev.rlhf.store;

/**
 * What the JSONL interchange formats carry about one preference: a prompt and the better and worse
 * response to it.
 */
public record PreferencePair(String prompt, String chosen, String rejected) {}
