package dev.rlhf.run;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.cli.RlhfCli;
import dev.rlhf.policy.model.GarbageCollectorPressure;
import dev.rlhf.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One configuration run twice at the same time, by {@code rlhf train} in a child JVM and in this JVM, both with the
 * garbage collector running all the time (a tiny young generation there, a collecting thread here): the same
 * metrics and the same final weights bit for bit. Nothing in a run may depend on its process, its timing or when
 * the garbage collector runs (a number that DJL wrapped in a Java-owned buffer once made backward passes read freed
 * memory; see {@code TorchOps.scalar}).
 */
class ExperimentReproducibilityTest {
    private static final int ITERATIONS = 4;

    @Test
    void aRunInAnotherProcessGivesTheSameMetricsAndWeights(@TempDir Path dir) throws Exception {
        Path sft = TinyExperiments.bootstrapPolicy(dir.resolve("sft"));
        Path childRun = dir.resolve("child");
        Path configFile = dir.resolve("child.conf");
        Files.writeString(configFile, ConfigFactory.parseMap(TinyExperiments.keys(childRun, ITERATIONS))
                .withValue("rlhf.experiment.policy-checkpoint", ConfigValueFactory.fromAnyRef(sft.toString()))
                .root().render(ConfigRenderOptions.concise()));
        Path log = dir.resolve("child.log");
        Process child = new ProcessBuilder(ChildJvm.command(List.of("-Xmx1g", "-Xmn2m", "-Dai.djl.offline=true"),
                        RlhfCli.class, "train", "--config", configFile.toString()))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        Path here = dir.resolve("here");
        try (GarbageCollectorPressure pressure = GarbageCollectorPressure.start()) {
            new ExperimentRunner(TinyExperiments.config(here, ITERATIONS), sft, TinyExperiments.quiet()).run();
            assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the child run did not finish; its output:\n"
                    + Files.readString(log));
        } finally {
            child.destroyForcibly();
        }
        assertEquals(0, child.exitValue(), "child run failed:\n" + Files.readString(log));

        assertEquals(ITERATIONS, TinyExperiments.deterministicMetrics(here).size());
        assertEquals(TinyExperiments.deterministicMetrics(here), TinyExperiments.deterministicMetrics(childRun),
                "metrics of every iteration");
        assertArrayEquals(Files.readAllBytes(TinyExperiments.weightsAt(here, ITERATIONS)),
                Files.readAllBytes(TinyExperiments.weightsAt(childRun, ITERATIONS)), "final weights");
    }
}
