package dev.rlhf.policy.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A TorchScript archive (what {@code torch.jit.save} writes) made from TorchScript source, for a module without
 * parameters: libtorch compiles the source when it loads the archive, so no Python is involved. The archive is a zip
 * of {@code version}, the source under {@code code/__torch__.py}, the constants table ({@code constants.pkl}, empty)
 * and the module object ({@code data.pkl}: a pickle that builds an instance of the source's class with
 * {@code training = False}).
 */
final class TorchScriptArchive {
    /**
     * Serialisation format version. Archives below 10 are read with operator upgraders that rewrite newer call
     * forms (for example, {@code gelu} loses its {@code approximate} argument).
     */
    private static final String FORMAT_VERSION = "10\n";

    private TorchScriptArchive() {}

    /** The archive of {@code source}, whose module class is {@code className} (a {@code Module} subclass). */
    static byte[] of(String className, String source) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            put(zip, "archive/version", FORMAT_VERSION.getBytes(StandardCharsets.US_ASCII));
            put(zip, "archive/code/__torch__.py", source.getBytes(StandardCharsets.UTF_8));
            put(zip, "archive/constants.pkl", emptyTuplePickle());
            put(zip, "archive/data.pkl", modulePickle(className));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Pickle protocol 2: PROTO 2, EMPTY_TUPLE, STOP. */
    private static byte[] emptyTuplePickle() {
        return new byte[] {(byte) 0x80, 2, ')', '.'};
    }

    /** Pickle protocol 2 of {@code __torch__.className()} with its state set to {@code {"training": False}}. */
    private static byte[] modulePickle(String className) {
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        pickle.write(0x80); // PROTO
        pickle.write(2);
        writeAscii(pickle, "c__torch__\n" + className + "\n"); // GLOBAL module\nname\n
        pickle.write(')'); // EMPTY_TUPLE: no constructor arguments
        pickle.write(0x81); // NEWOBJ
        pickle.write('}'); // EMPTY_DICT
        pickle.write('('); // MARK
        byte[] key = "training".getBytes(StandardCharsets.US_ASCII);
        pickle.write('X'); // BINUNICODE, 4-byte little-endian length
        pickle.write(key.length);
        pickle.write(0);
        pickle.write(0);
        pickle.write(0);
        pickle.writeBytes(key);
        pickle.write(0x89); // NEWFALSE
        pickle.write('u'); // SETITEMS
        pickle.write('b'); // BUILD
        pickle.write('.'); // STOP
        return pickle.toByteArray();
    }

    private static void writeAscii(ByteArrayOutputStream out, String text) {
        out.writeBytes(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** Stored uncompressed, as torch.jit.save does. */
    private static void put(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED);
        entry.setSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        entry.setCrc(crc.getValue());
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }
}
