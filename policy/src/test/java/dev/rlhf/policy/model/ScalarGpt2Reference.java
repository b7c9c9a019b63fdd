package dev.rlhf.policy.model;

import java.util.Map;

/**
 * An independent GPT-2 forward pass in plain Java loops, accumulated in double precision, for one unpadded
 * sequence at a time. It reads its weights in the Hugging Face checkpoint layout ({@code Conv1D} weights
 * {@code [in, out]}, names without the {@code transformer.} prefix), so a transposition error in the loader or in
 * the model shows up as a difference against it.
 */
public final class ScalarGpt2Reference {
    private final GptConfig config;
    private final Map<String, float[]> weights;

    /**
     * Logits and values of every position of one sequence.
     *
     * @param logits {@code [length][vocab]}
     * @param values {@code [length]}, or null without a value head
     */
    public record Output(double[][] logits, double[] values) {}

    public ScalarGpt2Reference(GptConfig config, Map<String, float[]> checkpointTensors) {
        this.config = config;
        this.weights = checkpointTensors;
    }

    /** Forward pass over real tokens only; token {@code t} sits at position {@code t}. */
    public Output forward(int[] tokens) {
        int n = tokens.length;
        int d = config.dModel();
        float[] wte = tensor("wte.weight");
        float[] wpe = tensor("wpe.weight");
        double[][] x = new double[n][d];
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < d; i++) {
                x[t][i] = (double) wte[tokens[t] * d + i] + wpe[t * d + i];
            }
        }
        for (int layer = 0; layer < config.layers(); layer++) {
            String p = "h." + layer + ".";
            double[][] h = layerNorm(x, p + "ln_1");
            double[][] context = attention(h, p);
            for (int t = 0; t < n; t++) {
                add(x[t], conv1d(context[t], p + "attn.c_proj"));
            }
            h = layerNorm(x, p + "ln_2");
            for (int t = 0; t < n; t++) {
                double[] inner = conv1d(h[t], p + "mlp.c_fc");
                for (int i = 0; i < inner.length; i++) {
                    inner[i] = gelu(inner[i]);
                }
                add(x[t], conv1d(inner, p + "mlp.c_proj"));
            }
        }
        double[][] hidden = layerNorm(x, "ln_f");
        int vocab = config.vocabSize();
        double[][] logits = new double[n][vocab];
        for (int t = 0; t < n; t++) {
            for (int v = 0; v < vocab; v++) {
                double sum = 0;
                for (int i = 0; i < d; i++) {
                    sum += wte[v * d + i] * hidden[t][i];
                }
                logits[t][v] = sum;
            }
        }
        double[] values = null;
        if (weights.containsKey(GptWeights.VALUE_HEAD_WEIGHT)) {
            float[] w = tensor(GptWeights.VALUE_HEAD_WEIGHT);
            float[] b = tensor(GptWeights.VALUE_HEAD_BIAS);
            values = new double[n];
            for (int t = 0; t < n; t++) {
                double sum = b[0];
                for (int i = 0; i < d; i++) {
                    sum += w[i] * hidden[t][i];
                }
                values[t] = sum;
            }
        }
        return new Output(logits, values);
    }

    /** Causal multi-head self-attention; returns the heads' outputs concatenated, before the projection. */
    private double[][] attention(double[][] h, String p) {
        int n = h.length;
        int d = config.dModel();
        int heads = config.heads();
        int hd = config.headDim();
        double[][] qkv = new double[n][];
        for (int t = 0; t < n; t++) {
            qkv[t] = conv1d(h[t], p + "attn.c_attn");
        }
        double scale = 1.0 / Math.sqrt(hd);
        double[][] context = new double[n][d];
        for (int head = 0; head < heads; head++) {
            int q0 = head * hd;
            int k0 = d + head * hd;
            int v0 = 2 * d + head * hd;
            for (int i = 0; i < n; i++) {
                double[] scores = new double[i + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    double s = 0;
                    for (int c = 0; c < hd; c++) {
                        s += qkv[i][q0 + c] * qkv[j][k0 + c];
                    }
                    scores[j] = s * scale;
                    max = Math.max(max, scores[j]);
                }
                double total = 0;
                for (int j = 0; j <= i; j++) {
                    scores[j] = Math.exp(scores[j] - max);
                    total += scores[j];
                }
                for (int j = 0; j <= i; j++) {
                    double a = scores[j] / total;
                    for (int c = 0; c < hd; c++) {
                        context[i][q0 + c] += a * qkv[j][v0 + c];
                    }
                }
            }
        }
        return context;
    }

    /** {@code y = x W + b} with {@code W} stored {@code [in, out]} as GPT-2's Conv1D does. */
    private double[] conv1d(double[] x, String prefix) {
        float[] w = tensor(prefix + ".weight");
        float[] b = tensor(prefix + ".bias");
        int in = x.length;
        int out = b.length;
        if (w.length != in * out) {
            throw new IllegalStateException(prefix + ".weight has " + w.length + " values, expected " + in * out);
        }
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            y[o] = b[o];
        }
        for (int i = 0; i < in; i++) {
            double xi = x[i];
            int row = i * out;
            for (int o = 0; o < out; o++) {
                y[o] += xi * w[row + o];
            }
        }
        return y;
    }

    private double[][] layerNorm(double[][] x, String prefix) {
        float[] gamma = tensor(prefix + ".weight");
        float[] beta = tensor(prefix + ".bias");
        double eps = config.layerNormEpsilon();
        double[][] y = new double[x.length][];
        for (int t = 0; t < x.length; t++) {
            double[] row = x[t];
            double mean = 0;
            for (double v : row) {
                mean += v;
            }
            mean /= row.length;
            double variance = 0;
            for (double v : row) {
                variance += (v - mean) * (v - mean);
            }
            variance /= row.length;
            double inv = 1.0 / Math.sqrt(variance + eps);
            y[t] = new double[row.length];
            for (int i = 0; i < row.length; i++) {
                y[t][i] = (row[i] - mean) * inv * gamma[i] + beta[i];
            }
        }
        return y;
    }

    /** GPT-2's {@code gelu_new}: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    private static void add(double[] target, double[] delta) {
        for (int i = 0; i < target.length; i++) {
            target[i] += delta[i];
        }
    }

    private float[] tensor(String name) {
        float[] t = weights.get(name);
        if (t == null) {
            throw new IllegalStateException("reference weights lack " + name);
        }
        return t;
    }
}
