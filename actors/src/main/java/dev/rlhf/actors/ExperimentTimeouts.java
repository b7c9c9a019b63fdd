package dev.rlhf.actors;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * How long the coordinator waits for each role (keys {@code rlhf.experiment.timeouts.*}, and
 * {@code rlhf.cluster.worker-wait-timeout} for the wait while no rollout worker holds the current weights; see
 * reference.conf). A role that fails answers or stops at once; these bound only a role that hangs.
 */
public record ExperimentTimeouts(
        Duration chunk,
        int chunkAttempts,
        Duration workerWait,
        Duration loadWeights,
        Duration scoring,
        Duration learn,
        Duration measureKl,
        Duration checkpoint,
        Duration collect,
        Duration readJudgments,
        Duration rewardTraining,
        Duration checkpointNow) {

    public ExperimentTimeouts {
        if (chunkAttempts < 1) {
            throw new IllegalArgumentException(
                    "rlhf.experiment.timeouts.chunk-attempts must be at least 1 but was " + chunkAttempts);
        }
    }

    public static ExperimentTimeouts from(Config config) {
        Config t = config.getConfig("rlhf.experiment.timeouts");
        return new ExperimentTimeouts(
                t.getDuration("chunk"),
                t.getInt("chunk-attempts"),
                config.getDuration("rlhf.cluster.worker-wait-timeout"),
                t.getDuration("load-weights"),
                t.getDuration("scoring"),
                t.getDuration("learn"),
                t.getDuration("measure-kl"),
                t.getDuration("checkpoint"),
                t.getDuration("collect"),
                t.getDuration("read-judgments"),
                t.getDuration("reward-training"),
                t.getDuration("checkpoint-now"));
    }
}
