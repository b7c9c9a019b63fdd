package dev.rlhf.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MaskedCrc32cTest {

    @Test
    void maskedCrcMatchesARecordFromARealTensorFlowEventFile() {
        // TensorBoard's masked_crc.rs: the data of tf.compat.v1.Event(file_version=b"CRC test, one two").
        byte[] data = "\u001a\u0011CRC test, one two".getBytes(StandardCharsets.ISO_8859_1);

        assertEquals(0x5794d08a, MaskedCrc32c.of(data), () -> Integer.toHexString(MaskedCrc32c.of(data)));
    }

    @Test
    void crcIsCastagnoliAsInRfc3720() {
        // RFC 3720 (iSCSI) B.4: CRC-32C of 32 zero bytes is 0x8a9136aa.
        assertEquals(MaskedCrc32c.mask(0x8a9136aa), MaskedCrc32c.of(new byte[32]));
    }

    @Test
    void maskRotatesRightBy15AndAddsTheDelta() {
        assertEquals(0xa282ead8, MaskedCrc32c.mask(0));
        assertEquals((1 << 17) + 0xa282ead8, MaskedCrc32c.mask(1));
        assertEquals(1 + 0xa282ead8, MaskedCrc32c.mask(1 << 15));
    }

    @Test
    void agreesWithABitwiseCrc32cOnArbitraryBytes() {
        Random random = new Random(7);
        for (int length = 0; length < 300; length += 13) {
            byte[] data = new byte[length];
            random.nextBytes(data);

            assertEquals(MaskedCrc32c.mask(bitwiseCrc32c(data)), MaskedCrc32c.of(data), "length " + length);
        }
    }

    /** CRC-32C one bit at a time from its definition: reflected polynomial 0x82f63b78, init and xor-out ~0. */
    private static int bitwiseCrc32c(byte[] data) {
        int crc = ~0;
        for (byte b : data) {
            crc ^= b & 0xff;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
            }
        }
        return ~crc;
    }
}
