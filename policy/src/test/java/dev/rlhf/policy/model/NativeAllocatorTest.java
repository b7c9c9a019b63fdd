package dev.rlhf.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Platform;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.testing.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class NativeAllocatorTest {

    @Test
    void referenceDefaultsServeTensorsUpTo32MiBFromTheArenas() {
        assertEquals(new NativeAllocator.Settings(true, 32L << 20, 64L << 20, true),
                NativeAllocator.Settings.from(ConfigFactory.load()));
    }

    @Test
    void turnedOffItChangesNothing() {
        assertFalse(NativeAllocator.tune(new NativeAllocator.Settings(false, 1L << 20, 64L << 20, true)));
    }

    /** In fresh JVMs, since a process's malloc state decides where a block comes from. */
    @Test
    void tunedA30MiBTensorComesFromAnArenaInsteadOfFreshPages() throws Exception {
        assumeTrue(Platform.isLinux());
        assertTrue(probe("untuned") >= MallocProbe.BLOCK, "glibc maps a block this large on its own by default");
        assertEquals(0, probe("tuned"), "tuned, the block comes from an arena");
    }

    /** Bytes mapped for the probe's block, in a child JVM without the malloc variables the test JVM runs with. */
    private static long probe(String mode) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(ChildJvm.command(List.of("-Xmx64m"), MallocProbe.class, mode))
                .redirectErrorStream(true);
        builder.environment().keySet().removeIf(name -> name.startsWith("MALLOC_"));
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, process.waitFor(), output);
        String[] lines = output.split("\n");
        return Long.parseLong(lines[lines.length - 1].strip());
    }
}
