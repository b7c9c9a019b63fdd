package dev.rlhf.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Byte encodings of keys: UTF-8 ids, NUL-joined composite keys, big-endian numbers that sort in order. */
final class Keys {

    /** Longest id accepted, in UTF-8 bytes. */
    static final int MAX_ID_BYTES = 128;

    private static final byte SEPARATOR = 0;

    private Keys() {}

    static byte[] id(String id) {
        return id.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code first NUL second}; ids never contain NUL, so the split is unambiguous and prefixes group by first. */
    static byte[] pair(String first, String second) {
        byte[] a = id(first);
        byte[] b = id(second);
        return ByteBuffer.allocate(a.length + 1 + b.length).put(a).put(SEPARATOR).put(b).array();
    }

    /** The prefix of every {@link #pair} key whose first part is {@code first}. */
    static byte[] pairPrefix(String first) {
        byte[] a = id(first);
        return ByteBuffer.allocate(a.length + 1).put(a).put(SEPARATOR).array();
    }

    /** The first part of a {@link #pair} key. */
    static String pairFirst(byte[] key) {
        return new String(key, 0, separatorIndex(key), StandardCharsets.UTF_8);
    }

    /** The second part of a {@link #pair} key. */
    static String pairSecond(byte[] key) {
        int separator = separatorIndex(key);
        return new String(key, separator + 1, key.length - separator - 1, StandardCharsets.UTF_8);
    }

    private static int separatorIndex(byte[] key) {
        for (int i = 0; i < key.length; i++) {
            if (key[i] == SEPARATOR) {
                return i;
            }
        }
        throw new IllegalArgumentException("not a pair key: " + printable(key));
    }

    static byte[] number(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    static long toNumber(byte[] bytes) {
        return ByteBuffer.wrap(bytes).getLong();
    }

    /** {@code number(n) ++ id}: sorts by n first. */
    static byte[] numbered(long number, String id) {
        byte[] b = id(id);
        return ByteBuffer.allocate(Long.BYTES + b.length).putLong(number).put(b).array();
    }

    static String numberedId(byte[] key) {
        return new String(key, Long.BYTES, key.length - Long.BYTES, StandardCharsets.UTF_8);
    }

    static boolean startsWith(byte[] key, byte[] prefix) {
        if (key.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (key[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    /**
     * A key for error messages: ids as text with the separator shown as '|', a leading number as
     * {@code #n}. Ids never contain NUL, so a key starting with a zero byte starts with a number.
     */
    static String printable(byte[] key) {
        if (key.length >= Long.BYTES && key[0] == 0) {
            return "#" + ByteBuffer.wrap(key).getLong() + numberedId(key);
        }
        return new String(key, StandardCharsets.UTF_8).replace('\0', '|');
    }

    /**
     * Checks a client-chosen id.
     *
     * @throws ChangeRejectedException with {@link RejectionReason#INVALID_ID} naming {@code field}
     */
    static void requireValidId(String id, String field) {
        if (id == null || id.isEmpty()) {
            throw new ChangeRejectedException(RejectionReason.INVALID_ID, field, field + " must not be empty");
        }
        if (id.indexOf('\0') >= 0) {
            throw new ChangeRejectedException(RejectionReason.INVALID_ID, field, field + " must not contain NUL");
        }
        int bytes = id(id).length;
        if (bytes > MAX_ID_BYTES) {
            throw new ChangeRejectedException(
                    RejectionReason.INVALID_ID,
                    field,
                    field + " must be at most " + MAX_ID_BYTES + " UTF-8 bytes but was " + bytes);
        }
    }
}
