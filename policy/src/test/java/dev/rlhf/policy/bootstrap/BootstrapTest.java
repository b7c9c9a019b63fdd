package dev.rlhf.policy.bootstrap;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.rlhf.policy.Policy;
import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BootstrapTest {
    /** A miniature of the embedded default: small enough for a unit test, same code path. */
    private static final BootstrapSettings TINY =
            new BootstrapSettings(7, 400, 64, 32, 1, 2, 8, 400, 150, 1e-2f, 200, 20, 1e-3f);

    @Test
    void sameSeedGivesByteIdenticalCheckpointThatLoadsAndGenerates(@TempDir Path dir) throws Exception {
        Path first = dir.resolve("first");
        Path second = dir.resolve("second");
        try (NDManager manager = NDManager.newBaseManager()) {
            new Bootstrap(TINY).run(first, manager);
            new Bootstrap(TINY).run(second, manager);
            for (String file : List.of("config.json", "model.safetensors", "tokenizer.json")) {
                assertArrayEquals(Files.readAllBytes(first.resolve(file)), Files.readAllBytes(second.resolve(file)),
                        file + " differs between two runs with the same seed");
            }
            JsonObject report = JsonParser.parseString(Files.readString(first.resolve(Bootstrap.REPORT_FILE)))
                    .getAsJsonObject();
            double pretrainLoss = report.get("pretrain_loss").getAsDouble();
            assertTrue(pretrainLoss < Math.log(400) * 0.6,
                    "pretraining should beat a uniform guess (ln 400 = 5.99) clearly, final loss " + pretrainLoss);

            try (Policy policy = Policy.load(first, manager)) {
                String prompt = new ReviewCorpus().prompts(1, 3).get(0);
                List<Completion> out = policy.generator().generate(List.of(
                        new GenerationRequest(policy.tokenizer().encode(prompt), SamplingParams.greedy(20))));
                assertTrue(out.get(0).tokenIds().length > 0, "the policy generates");
            }
        }
    }
}
