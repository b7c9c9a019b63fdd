package dev.rlhf.policy.model;
import ai.djl.ndarray.*;
import ai.djl.ndarray.types.Shape;
import dev.rlhf.policy.bench.BenchShape;
import org.junit.jupiter.api.Test;
class ScratchPerfTest {
    interface R { void run(NDManager s); }
    static double time(NDManager base, R r, int n) {
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) try (NDManager s = base.newSubManager()) { r.run(s); }
        return (System.nanoTime() - t0) / 1e3 / n;
    }
    static NDArray lin(NDArray x, NDArray w, NDArray b) { return x.getNDArrayInternal().linear(x, w, b).singletonOrThrow(); }
    @Test void run() {
        BenchShape shape = new BenchShape(4, 256, 4, 8192, 16, 32, 64);
        try (NDManager m = NDManager.newBaseManager(); GptModel model = new GptModel(GptWeights.random(shape.modelConfig(), false, m, 1))) {
            KvCache cache = KvCache.allocate(m, model.config(), 16, 96);
            float[] bias = new float[16 * 96];
            NDArray x = m.randomNormal(new Shape(16, 256));
            R full = s -> model.logits(model.decodeStep(s.create(new long[16]), s.create(new long[16]), s.create(bias, new Shape(16,1,1,96)), cache, 50));
            R matmuls = s -> { for (GptWeights.Layer w : model.weights().layers()) { lin(x, w.attnWeight(), w.attnBias()).attach(s); lin(x, w.attnProjWeight(), w.attnProjBias()).attach(s); NDArray h = lin(x, w.fcWeight(), w.fcBias()); h.attach(s); lin(h, w.mlpProjWeight(), w.mlpProjBias()).attach(s);} lin(x, model.weights().tokenEmbedding(), null).attach(s); };
            R lm = s -> lin(x, model.weights().tokenEmbedding(), null).attach(s);
            R adds = s -> { NDArray y = x.add(1f); y.attach(s); for (int i = 0; i < 129; i++) y = y.add(1f); };
            for (int rep = 0; rep < 5; rep++) {
                System.out.printf("full %.0f  matmuls %.0f  lm %.0f  130adds %.0f%n", time(m, full, 200), time(m, matmuls, 200), time(m, lm, 200), time(m, adds, 200));
            }
        }
    }
}
