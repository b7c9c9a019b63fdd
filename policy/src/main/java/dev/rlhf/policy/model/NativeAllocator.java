package dev.rlhf.policy.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.typesafe.config.Config;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tunes glibc's malloc, through which libtorch allocates every CPU tensor, for tensors of a few megabytes.
 *
 * <p>Why: by default glibc hands out large blocks as fresh pages (above an adaptive mmap threshold) and grows and
 * trims each thread's arena in small steps, so most activation tensors of a training step land on pages the kernel
 * must fault in and zero on first write. Measured here, an elementwise product over {@code [16, 160, 1024]} while
 * eight earlier results are alive (as autograd keeps them) took 3.8 ms instead of 0.9 ms, and the reward-model
 * bench made 1.5 million page faults instead of 0.2 million. Serving blocks up to {@code mmap-threshold} from the
 * arenas and growing an arena by {@code top-pad} at a time lets freed tensor memory be reused. The cost: freed
 * memory stays with the process (up to the pad per arena) rather than going back to the system at once.
 *
 * <p>glibc reads the same settings from {@code MALLOC_MMAP_THRESHOLD_} and {@code MALLOC_TOP_PAD_}; calling
 * {@code mallopt} at start-up (through JNA, which DJL already uses) makes them hold however the JVM was launched.
 *
 * <p>Blocks above 32 MiB (glibc's ceiling for the threshold) are still mapped afresh for every tensor and given
 * back when it is freed; at GPT-2's vocabulary a minibatch's logits {@code [16, 32, 50257]} are 103 MB, and each
 * of the several such tensors a PPO step allocates, faulted in 4 KiB at a time, took 300-550 ms against 20-30 ms on
 * transparent huge pages (a fresh {@code add}, measured side by side on a loaded 2-core machine). With
 * {@code huge-pages} on, libtorch's CPU allocator aligns every block of 2 MiB or more to 2 MiB and advises the
 * kernel to back it with huge pages ({@code THP_MEM_ALLOC_ENABLE}, which libtorch reads at its first allocation,
 * so {@link #tune} sets it in the C environment before any tensor exists). Where the kernel's transparent huge
 * pages are {@code never} the advice does nothing.
 */
public final class NativeAllocator {
    private static final Logger LOG = LoggerFactory.getLogger(NativeAllocator.class);
    // mallopt parameter numbers, from glibc's <malloc.h>
    private static final int M_TOP_PAD = -2;
    private static final int M_MMAP_THRESHOLD = -3;
    /** libtorch's switch for huge-page-backed CPU tensors of 2 MiB and more (c10 {@code alloc_cpu}). */
    private static final String TORCH_HUGE_PAGES = "THP_MEM_ALLOC_ENABLE";

    /** The {@code rlhf.native-allocator} settings. */
    public record Settings(boolean tune, long mmapThreshold, long topPad, boolean hugePages) {
        public static Settings from(Config config) {
            Config c = config.getConfig("rlhf.native-allocator");
            return new Settings(c.getBoolean("tune"), c.getBytes("mmap-threshold"), c.getBytes("top-pad"),
                    c.getBoolean("huge-pages"));
        }
    }

    /** The C library calls used; {@code gnu_get_libc_version} exists only in glibc, so it doubles as the probe. */
    private interface GlibcMalloc extends Library {
        int mallopt(int parameter, int value);

        String gnu_get_libc_version();

        int setenv(String name, String value, int overwrite);
    }

    private NativeAllocator() {}

    /**
     * Applies {@code settings} to this process's malloc, once, before the heavy allocation starts.
     *
     * @return whether they now hold: false when tuning is off, the C library is not glibc, or glibc refused a value
     *     (logged)
     */
    public static boolean tune(Settings settings) {
        if (!settings.tune()) {
            return false;
        }
        if (!Platform.isLinux()) {
            LOG.debug("native allocator left as it is: not Linux");
            return false;
        }
        GlibcMalloc libc;
        try {
            libc = Native.load("c", GlibcMalloc.class);
            LOG.debug("tuning glibc {} malloc", libc.gnu_get_libc_version());
        } catch (LinkageError e) {
            // no gnu_get_libc_version (not glibc), or JNA's own native part could not load: run untuned
            LOG.info("native allocator left as it is: glibc's malloc is not reachable ({})", e.toString());
            return false;
        }
        if (settings.hugePages()) {
            // overwrite 0: a value the process was started with wins
            libc.setenv(TORCH_HUGE_PAGES, "1", 0);
        }
        // `&`, not `&&`: the pad is worth setting even if the threshold was refused
        return set(libc, M_MMAP_THRESHOLD, "mmap-threshold", settings.mmapThreshold())
                & set(libc, M_TOP_PAD, "top-pad", settings.topPad());
    }

    private static boolean set(GlibcMalloc libc, int parameter, String key, long bytes) {
        if (bytes > Integer.MAX_VALUE || libc.mallopt(parameter, (int) bytes) != 1) {
            LOG.warn("glibc refused rlhf.native-allocator.{} = {} bytes; left at its default", key, bytes);
            return false;
        }
        return true;
    }
}
