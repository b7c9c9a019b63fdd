package dev.rlhf.serve;

import dev.rlhf.policy.generate.TokenDecoder;
import java.util.Arrays;

/**
 * The text of a completion as its tokens arrive, handed out in pieces that are final: a character still
 * missing bytes (decoded as U+FFFD) and the last {@code stop length - 1} characters, which could begin a stop
 * string that will be cut, are held back until later tokens settle them. The pieces concatenate to the
 * completion's text.
 */
final class StreamingText {
    private static final char REPLACEMENT = '\uFFFD';

    private final TokenDecoder decoder;
    private final int holdBack;
    private int[] ids = new int[16];
    private int count;
    private String emitted = "";

    /**
     * @param decoder the tokenizer's decode, or null when the server has none (then every piece is empty)
     * @param longestStop length of the longest stop string, 0 when there are none
     */
    StreamingText(TokenDecoder decoder, int longestStop) {
        this.decoder = decoder;
        this.holdBack = Math.max(0, longestStop - 1);
    }

    /** Adds a generated token; returns the text that became final with it, possibly empty. */
    String append(int tokenId) {
        if (count == ids.length) {
            ids = Arrays.copyOf(ids, 2 * count);
        }
        ids[count++] = tokenId;
        if (decoder == null) {
            return "";
        }
        String text = decoder.decode(Arrays.copyOf(ids, count));
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == REPLACEMENT) {
            end--;
        }
        end -= holdBack;
        return emit(text, end);
    }

    /** The rest of {@code completionText} after everything handed out so far. */
    String finish(String completionText) {
        return emit(completionText, completionText.length());
    }

    private String emit(String text, int end) {
        if (end > 0 && end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never split a surrogate pair: half of one is not valid UTF-8
        }
        if (end <= emitted.length() || !text.startsWith(emitted)) {
            return "";
        }
        String piece = text.substring(emitted.length(), end);
        emitted = text.substring(0, end);
        return piece;
    }
}
