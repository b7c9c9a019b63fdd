package dev.rlhf.policy.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.policy.ppo.PpoSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench commands' figures on a tiny shape: every rate is there, positive, and set against its GEMM bound. */
class BenchmarksTest {
    private static final BenchShape TINY = new BenchShape(2, 32, 2, 64, 4, 6, 5);

    @Test
    void generationReportsItsRateAndItsGemmBound() {
        Map<String, Object> result = GenerationBenchmark.run(TINY, 0, 1);

        double rate = positive(result, "tokens_per_s");
        double bound = positive(result, "gemm_bound_tokens_per_s");
        positive(result, "gemm_gflop_per_batch");
        assertEquals(rate / bound, (double) result.get("fraction_of_gemm_bound"), 1e-9 * rate / bound);
    }

    @Test
    void ppoReportsItsRateAndItsGemmBound() {
        Map<String, Object> result = PpoBenchmark.run(TINY, PpoSettings.from(ConfigFactory.load()), 0, 1, 1);

        double rate = positive(result, "samples_per_s");
        double bound = positive(result, "gemm_bound_samples_per_s");
        positive(result, "gemm_gflop_per_update");
        assertEquals(rate / bound, (double) result.get("fraction_of_gemm_bound"), 1e-9 * rate / bound);
    }

    @Test
    void ppoOnTwoReplicasReportsItsScalingMeasuredSideBySide() {
        Map<String, Object> result = PpoBenchmark.run(TINY, PpoSettings.from(ConfigFactory.load()), 0, 2, 2);

        positive(result, "samples_per_s");
        positive(result, "samples_per_s_one_replica");
        double speedup = positive(result, "speedup");
        assertEquals(2, result.get("replicas"));
        assertEquals(speedup / 2, (double) result.get("scaling_efficiency"), 1e-12);
    }

    private static double positive(Map<String, Object> result, String key) {
        double value = ((Number) result.get(key)).doubleValue();
        assertTrue(value > 0 && Double.isFinite(value), key + " = " + value + " in " + result);
        return value;
    }
}
