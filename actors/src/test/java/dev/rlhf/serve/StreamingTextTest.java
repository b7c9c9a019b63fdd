package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rlhf.policy.generate.TokenDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamingTextTest {
    /** Each token id is one byte; undecodable bytes turn into U+FFFD, as a byte-level BPE decoder does. */
    private static final TokenDecoder BYTES = ids -> {
        byte[] bytes = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) {
            bytes[i] = (byte) ids[i];
        }
        return new String(bytes, StandardCharsets.UTF_8);
    };

    @Test
    void aCharacterSplitAcrossTokensIsHeldBackUntilItsLastByte() {
        StreamingText text = new StreamingText(BYTES, 0);
        byte[] utf8 = "a日".getBytes(StandardCharsets.UTF_8);

        List<String> pieces = List.of(text.append(utf8[0]), text.append(utf8[1]), text.append(utf8[2]),
                text.append(utf8[3]));

        assertEquals(List.of("a", "", "", "日"), pieces);
        assertEquals("", text.finish("a日"));
    }

    @Test
    void textThatCouldStartAStopStringIsHeldBackAndTheCutTextEndsTheStream() {
        StreamingText text = new StreamingText(BYTES, 3);

        String first = text.append('a') + text.append('b') + text.append('c') + text.append('E');
        String rest = text.finish("abc");

        assertEquals("ab", first, "the last two characters could begin the stop string \"END\"");
        assertEquals("c", rest);
    }
}
