package dev.rlhf.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Structure;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {
    private static final NativeAllocator.Settings DEFAULTS = NativeAllocator.Settings.from(ConfigFactory.load());

    @Test
    void referenceDefaultsServeTensorsUpTo32MiBFromTheArenas() {
        assertEquals(new NativeAllocator.Settings(true, 32L << 20, 64L << 20), DEFAULTS);
    }

    @Test
    void turnedOffItChangesNothing() {
        assertFalse(NativeAllocator.tune(new NativeAllocator.Settings(false, 1L << 20, 64L << 20)));
    }

    @Test
    void blocksBelowTheThresholdComeFromTheArenasAndLargerOnesFromFreshMappings() {
        assumeTrue(Platform.isLinux());
        try {
            assertTrue(NativeAllocator.tune(new NativeAllocator.Settings(true, 1L << 20, 64L << 20)));
            assertEquals(0, mappedBytesFor(512 << 10), "a 512 KiB block comes from an arena");
            assertTrue(mappedBytesFor(2 << 20) >= 2 << 20, "a 2 MiB block is mapped on its own");
        } finally {
            assertTrue(NativeAllocator.tune(DEFAULTS));
        }
        assertEquals(0, mappedBytesFor(16 << 20), "with the defaults, a 16 MiB tensor comes from an arena");
    }

    /** How much memory malloc maps on its own (outside its arenas) for a block of {@code size} bytes. */
    private static long mappedBytesFor(long size) {
        long before = Glibc.INSTANCE.mallinfo2().hblkhd;
        long block = Native.malloc(size);
        try {
            return Glibc.INSTANCE.mallinfo2().hblkhd - before;
        } finally {
            Native.free(block);
        }
    }

    /** glibc's malloc statistics (glibc 2.33+). */
    private interface Glibc extends Library {
        Glibc INSTANCE = Native.load("c", Glibc.class);

        MallInfo2.ByValue mallinfo2();
    }

    /** {@code struct mallinfo2}: ten size_t fields; hblkhd is the bytes of blocks mapped on their own. */
    @Structure.FieldOrder({"arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost"})
    public static class MallInfo2 extends Structure {
        public long arena;
        public long ordblks;
        public long smblks;
        public long hblks;
        public long hblkhd;
        public long usmblks;
        public long fsmblks;
        public long uordblks;
        public long fordblks;
        public long keepcost;

        public static class ByValue extends MallInfo2 implements Structure.ByValue {}
    }
}
