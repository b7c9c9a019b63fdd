package dev.rlhf.policy.align;

/** Per-token test data whose padded positions can be filled with zeros or with garbage. */
final class Garbage {
    /** Non-finite and huge values, cycled over the padded positions. */
    static final float[] VALUES = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e30f, -7.5f};

    private Garbage() {}

    /** A copy of {@code values} with every position whose mask is 0 overwritten: by zeros, or by garbage. */
    static float[] pad(float[] values, float[] mask, boolean garbage) {
        float[] out = values.clone();
        int g = 0;
        for (int i = 0; i < out.length; i++) {
            if (mask[i] == 0) {
                out[i] = garbage ? VALUES[g++ % VALUES.length] : 0f;
            }
        }
        return out;
    }
}
