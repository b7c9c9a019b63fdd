import ai.djl.ndarray.NDManager;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptConfig;
import dev.rlhf.policy.model.GptWeights;
import java.nio.file.Path;

/** A randomly initialised checkpoint at GPT-2 small's shape (12 layers, d 768, 12 heads, vocab 50,257, context 1024). */
public class MakeGpt2Small {
    public static void main(String[] args) throws Exception {
        GptConfig config = GptConfig.of(50257, 1024, 768, 12, 12, 50256);
        try (NDManager manager = NDManager.newBaseManager()) {
            GptWeights weights = GptWeights.random(config, false, manager, 1);
            GptCheckpoint.save(weights, Path.of(args[0]));
            weights.close();
        }
    }
}
