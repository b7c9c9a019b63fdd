package dev.rlhf.policy.model;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DJL model, loaded from a Hugging Face checkpoint, against the plain-Java GPT-2 of the same tensors. */
class GptModelMatchesScalarReferenceTest {
    private static final double TOLERANCE = 1e-4;
    private static final int[][] PROMPTS = {
        {3, 17, 42, 8, 0, 49, 25, 11, 30, 2, 7, 19},
        {12, 5, 33, 48, 1, 9, 21},
        {44, 6, 27},
    };

    @TempDir
    static Path dir;

    private static NDManager manager;
    private static GptModel model;
    private static ScalarGpt2Reference reference;

    @BeforeAll
    static void loadTinyCheckpoint() throws Exception {
        GptConfig config = TinyGpt2Checkpoint.config(-1);
        Map<String, float[]> tensors = TinyGpt2Checkpoint.randomTensors(config, true, 11L);
        manager = NDManager.newBaseManager();
        model = TinyGpt2Checkpoint.load(TinyGpt2Checkpoint.write(dir, config, tensors), manager);
        reference = new ScalarGpt2Reference(config, tensors);
    }

    @AfterAll
    static void close() {
        model.close();
        manager.close();
    }

    @Test
    void logitsAndValuesMatchScalarReferenceWithLeftPadding() {
        compareWithReference(true);
    }

    @Test
    void logitsAndValuesMatchScalarReferenceWithRightPadding() {
        compareWithReference(false);
    }

    @Test
    void referenceGeluIsTheTanhApproximation() {
        // published values of gelu_new; the exact erf GELU gives 0.84134 at 1, which this must not match
        assertClose(0.841192, ScalarGpt2Reference.gelu(1.0), 1e-6, "gelu_new(1)");
        assertClose(-0.0454023, ScalarGpt2Reference.gelu(-2.0), 1e-6, "gelu_new(-2)");
    }

    private static void compareWithReference(boolean leftPadding) {
        int batch = PROMPTS.length;
        int length = PROMPTS[0].length;
        long[] ids = new long[batch * length];
        long[] mask = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            int start = leftPadding ? length - PROMPTS[b].length : 0;
            for (int t = 0; t < length; t++) {
                // padding holds a real-looking id, so a leak through the mask changes the numbers
                ids[b * length + t] = (7L * t + b) % 50;
            }
            for (int t = 0; t < PROMPTS[b].length; t++) {
                ids[b * length + start + t] = PROMPTS[b][t];
                mask[b * length + start + t] = 1;
            }
        }
        int vocab = model.config().vocabSize();
        float[] logits;
        float[] values;
        try (NDManager m = manager.newSubManager()) {
            Shape shape = new Shape(batch, length);
            GptModel.Output out = model.forward(m.create(ids, shape), m.create(mask, shape), true);
            logits = out.logits().toFloatArray();
            values = out.values().toFloatArray();
        }
        double worstLogit = 0;
        double worstValue = 0;
        for (int b = 0; b < batch; b++) {
            int start = leftPadding ? length - PROMPTS[b].length : 0;
            ScalarGpt2Reference.Output expected = reference.forward(PROMPTS[b]);
            for (int t = 0; t < PROMPTS[b].length; t++) {
                int at = b * length + start + t;
                for (int v = 0; v < vocab; v++) {
                    double diff = Math.abs(logits[at * vocab + v] - expected.logits()[t][v]);
                    worstLogit = Math.max(worstLogit, diff);
                    assertClose(expected.logits()[t][v], logits[at * vocab + v], TOLERANCE,
                            "logit of token " + v + " at real position " + t + " of row " + b
                                    + (leftPadding ? " (left padding)" : " (right padding)"));
                }
                worstValue = Math.max(worstValue, Math.abs(values[at] - expected.values()[t]));
                assertClose(expected.values()[t], values[at], TOLERANCE,
                        "value at real position " + t + " of row " + b);
            }
        }
        System.out.printf("scalar reference, %s padding: max |logit diff| %.2e, max |value diff| %.2e%n",
                leftPadding ? "left" : "right", worstLogit, worstValue);
    }

    static void assertClose(double expected, double actual, double tolerance, String what) {
        if (!(Math.abs(expected - actual) <= tolerance)) {
            throw new AssertionError(what + ": expected " + expected + " but was " + actual + " (difference "
                    + Math.abs(expected - actual) + " > " + tolerance + ")");
        }
    }
}
