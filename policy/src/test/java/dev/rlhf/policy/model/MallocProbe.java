package dev.rlhf.policy.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Structure;
import com.typesafe.config.ConfigFactory;

/**
 * Run in a fresh JVM by {@link NativeAllocatorTest}: applies the reference malloc settings if its argument is
 * {@code tuned}, then prints how many bytes malloc maps on its own (outside its arenas) for a 30 MiB block.
 */
public final class MallocProbe {
    static final long BLOCK = 30L << 20;

    private MallocProbe() {}

    public static void main(String[] args) {
        if (args.length == 1 && args[0].equals("tuned")
                && !NativeAllocator.tune(NativeAllocator.Settings.from(ConfigFactory.load()))) {
            throw new IllegalStateException("the reference settings were not applied");
        }
        long before = Glibc.INSTANCE.mallinfo2().hblkhd;
        long block = Native.malloc(BLOCK);
        try {
            System.out.println(Glibc.INSTANCE.mallinfo2().hblkhd - before);
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
