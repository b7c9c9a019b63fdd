package dev.rlhf.policy.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * GPT-2's {@code bytes_to_unicode} table: every byte value gets a printable character, so a
 * byte-level token is an ordinary string (a space becomes {@code Ġ}, a newline {@code Ċ}).
 */
final class ByteLevelAlphabet {

    /** Symbol of each byte value, indexed by the unsigned byte. */
    private static final char[] SYMBOL_OF_BYTE = new char[256];

    /** The 256 symbols in GPT-2's vocabulary order: printable bytes first, then the rest. */
    private static final List<String> SYMBOLS_IN_VOCAB_ORDER;

    static {
        List<Integer> printable = new ArrayList<>();
        addRange(printable, '!', '~');
        addRange(printable, '\u00A1', '\u00AC');
        addRange(printable, '\u00AE', '\u00FF');
        boolean[] isPrintable = new boolean[256];
        List<String> order = new ArrayList<>(256);
        for (int b : printable) {
            isPrintable[b] = true;
            SYMBOL_OF_BYTE[b] = (char) b;
            order.add(String.valueOf((char) b));
        }
        int shifted = 0;
        for (int b = 0; b < 256; b++) {
            if (!isPrintable[b]) {
                SYMBOL_OF_BYTE[b] = (char) (256 + shifted++);
                order.add(String.valueOf(SYMBOL_OF_BYTE[b]));
            }
        }
        SYMBOLS_IN_VOCAB_ORDER = Collections.unmodifiableList(order);
    }

    private ByteLevelAlphabet() {}

    /** Returns the 256 base symbols in the order GPT-2 gives them ids 0..255. */
    static List<String> symbolsInVocabOrder() {
        return SYMBOLS_IN_VOCAB_ORDER;
    }

    /** Maps the UTF-8 bytes of {@code text} to one symbol each. */
    static String toSymbols(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        char[] symbols = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            symbols[i] = SYMBOL_OF_BYTE[bytes[i] & 0xFF];
        }
        return new String(symbols);
    }

    private static void addRange(List<Integer> into, char first, char last) {
        for (int c = first; c <= last; c++) {
            into.add(c);
        }
    }
}
