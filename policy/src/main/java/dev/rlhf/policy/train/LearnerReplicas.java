package dev.rlhf.policy.train;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;

/**
 * {@code rlhf.learner.replicas}: how many data-parallel replicas the learner's updates and scoring passes and the
 * reward model's training run on ({@link Replicas}), {@code auto} meaning one per core.
 */
public final class LearnerReplicas {
    static final String KEY = "rlhf.learner.replicas";

    private LearnerReplicas() {}

    /**
     * The configured count: {@code auto} is the core count; more replicas than cores only take turns on them.
     *
     * @throws IllegalArgumentException naming the key if it is neither {@code auto} nor a positive integer
     */
    public static int from(Config config) {
        if (config.getString(KEY).equals("auto")) {
            return Runtime.getRuntime().availableProcessors();
        }
        try {
            // getDouble, not getInt, which would take 1.5 for 1; a -D system property arrives as a string
            double replicas = config.getDouble(KEY);
            if (replicas >= 1 && replicas <= Integer.MAX_VALUE && replicas == Math.rint(replicas)) {
                return (int) replicas;
            }
        } catch (ConfigException.WrongType e) {
            // not a number: refused below
        }
        throw new IllegalArgumentException(KEY + " must be auto or a positive number of replicas but was "
                + config.getValue(KEY).render());
    }
}
