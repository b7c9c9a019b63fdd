package dev.rlhf.actors;

import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.model.GptModel;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.model.WeightsSnapshot;
import dev.rlhf.policy.tokenizer.TextTokenizer;

/** A rollout worker's policy copy in this JVM: its own tensors, loaded from the latest published snapshot. */
public final class LocalPolicyReplica implements RolloutWorker.PolicyReplica {
    private final GptModel model;
    private final TextTokenizer tokenizer;
    private long version;

    private LocalPolicyReplica(GptModel model, TextTokenizer tokenizer, WeightsSnapshot latest) {
        this.model = model;
        this.tokenizer = tokenizer;
        load(latest);
    }

    /** A factory whose replicas copy {@code base}'s shape and start at {@code board}'s latest weights. */
    public static RolloutWorker.PolicyReplica.Factory factory(GptWeights base, TextTokenizer tokenizer,
            WeightsBoard board, NDManager parent) {
        return () -> new LocalPolicyReplica(new GptModel(base.copy(parent)), tokenizer, board.latest().inProcess());
    }

    @Override
    public GptModel model() {
        return model;
    }

    @Override
    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public void load(WeightsSnapshot snapshot) {
        snapshot.loadInto(model.weights());
        version = snapshot.version();
    }

    @Override
    public void close() {
        model.close();
    }
}
