package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.bench.BenchShape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code bench sync} on a tiny model: every field it prints, and the node ends bit-identical to the learner. */
class WeightSyncBenchmarkTest {

    @Test
    void aSyncedVersionArrivesWholeInTheChunksItWasCutInto() throws Exception {
        Map<String, Object> out = WeightSyncBenchmark.run(new BenchShape(1, 32, 2, 100, 1, 4, 4), 2, 4096);

        long fileBytes = (long) out.get("file_bytes");
        assertEquals(true, out.get("bit_identical"));
        assertEquals((fileBytes + 4095) / 4096, ((Integer) out.get("chunks")).longValue());
        assertTrue((long) out.get("wire_bytes") > fileBytes, "each chunk carries its digests: " + out);
        assertTrue((long) out.get("parameters") > 32 * 100, "the embedding alone has vocab x d_model: " + out);
        for (String key : new String[] {"snapshot_seconds", "encode_seconds", "sync_seconds", "seconds_per_version",
            "sync_mb_per_s"}) {
            assertTrue((double) out.get(key) > 0, key + " in " + out);
        }
    }
}
