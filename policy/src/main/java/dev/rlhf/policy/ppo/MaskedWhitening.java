package dev.rlhf.policy.ppo;

/**
 * Standardises the masked entries of an array, as TRL's {@code masked_whiten}: the mean over masked entries, the
 * unbiased (Bessel-corrected) variance over them, {@code (x - mean) / sqrt(var + 1e-8)}, and with
 * {@code shiftMean = false} the mean added back (the scale changes, the mean does not).
 */
public final class MaskedWhitening {
    static final double EPSILON = 1e-8;

    private MaskedWhitening() {}

    /**
     * @return a new array; entries outside the mask are 0
     * @throws IllegalArgumentException if the lengths differ or fewer than two entries are masked
     */
    public static float[] whiten(float[] values, float[] mask, boolean shiftMean) {
        if (values.length != mask.length) {
            throw new IllegalArgumentException(
                    "values and mask must have the same length but had " + values.length + " and " + mask.length);
        }
        double count = 0;
        double sum = 0;
        for (int i = 0; i < values.length; i++) {
            count += mask[i];
            sum += mask[i] * values[i];
        }
        if (count < 2) {
            throw new IllegalArgumentException("at least two entries must be masked but " + count + " were");
        }
        double mean = sum / count;
        double squares = 0;
        for (int i = 0; i < values.length; i++) {
            squares += mask[i] * (values[i] - mean) * (values[i] - mean);
        }
        double variance = squares / count * (count / (count - 1));
        double scale = 1 / Math.sqrt(variance + EPSILON);
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            double whitened = (values[i] - mean) * scale + (shiftMean ? 0 : mean);
            out[i] = (float) (whitened * mask[i]);
        }
        return out;
    }
}
