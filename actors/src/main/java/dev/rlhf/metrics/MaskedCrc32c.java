package dev.rlhf.metrics;

import java.util.zip.CRC32C;

/**
 * The checksum TFRecord files carry: CRC-32C (Castagnoli) of the bytes, rotated right by 15 bits plus a
 * constant. The mask exists because a CRC computed over data that itself contains CRCs is weak; TensorFlow
 * and LevelDB mask every stored CRC for that reason.
 */
final class MaskedCrc32c {

    private static final int MASK_DELTA = 0xa282ead8;

    private MaskedCrc32c() {}

    /** Masked CRC-32C of {@code bytes[offset, offset + length)}. */
    static int of(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return mask((int) crc.getValue());
    }

    /** Masked CRC-32C of all of {@code bytes}. */
    static int of(byte[] bytes) {
        return of(bytes, 0, bytes.length);
    }

    /** The masked form of an unmasked CRC-32C. */
    static int mask(int crc) {
        return ((crc >>> 15) | (crc << 17)) + MASK_DELTA;
    }
}
