package dev.rlhf.actors;

import dev.rlhf.policy.model.WeightsSnapshot;

/**
 * A published policy version, as the coordinator hands it to the rollout workers: the weights themselves in this
 * JVM, or a version the learner node holds and sends to the rollout nodes itself.
 */
public sealed interface PublishedWeights permits PublishedWeights.InProcess, PublishedWeights.OnLearnerNode {

    long version();

    /** The weights in this JVM: a local learner's, or version 0 (the SFT policy) which the coordinator loads too. */
    record InProcess(WeightsSnapshot snapshot) implements PublishedWeights {
        @Override
        public long version() {
            return snapshot.version();
        }
    }

    /**
     * A version the learner node made ({@code rlhf.cluster.learner = remote}): only rollout nodes load it, from the
     * learner node, so the weights never pass through the coordinator.
     */
    record OnLearnerNode(long version) implements PublishedWeights {}

    /**
     * The weights themselves, which a rollout worker in this JVM loads.
     *
     * @throws IllegalStateException for a version only the learner node holds
     */
    default WeightsSnapshot inProcess() {
        if (this instanceof InProcess local) {
            return local.snapshot();
        }
        throw new IllegalStateException("weights v" + version() + " are on the learner node, which sends them to "
                + "rollout nodes only: a rollout worker in the coordinator's JVM cannot load them");
    }
}
