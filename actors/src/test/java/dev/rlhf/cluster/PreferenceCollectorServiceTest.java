package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.PreferenceCollector;
import dev.rlhf.proto.v1.CollectRequest;
import dev.rlhf.proto.v1.CollectResponse;
import dev.rlhf.proto.v1.ComparedPair;
import dev.rlhf.proto.v1.JudgedPage;
import dev.rlhf.proto.v1.JudgedPair;
import dev.rlhf.proto.v1.PreferenceCollectorServiceGrpc;
import dev.rlhf.proto.v1.ReadJudgedRequest;
import dev.rlhf.proto.v1.ReadLastSequenceRequest;
import dev.rlhf.rewardmodel.Comparison;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * PreferenceCollectorService over real stores, one per run, judged by the configured simulated panel: a batch's
 * judgments read back in pages, in sequence order, with the comparisons sent; runs keep stores of their own; every
 * bad field answers INVALID_ARGUMENT naming it.
 */
class PreferenceCollectorServiceTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static final int PAGE = 2;

    @TempDir Path root;
    private RunStores stores;
    private Server server;
    private ManagedChannel channel;
    private PreferenceCollectorServiceGrpc.PreferenceCollectorServiceBlockingStub stub;

    @BeforeEach
    void startService() throws Exception {
        stores = new RunStores(ConfigFactory.load(), root, TESTKIT.system());
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new PreferenceCollectorGrpcService(stores::collector, PAGE, TESTKIT.scheduler(),
                        Duration.ofSeconds(30)))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = PreferenceCollectorServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stopService() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        stores.close();
    }

    @AfterAll
    static void stopTestKit() {
        TESTKIT.shutdownTestKit();
    }

    @Test
    void aBatchsJudgmentsReadBackInPagesInSequenceOrder() {
        List<Comparison> sent = comparisons("b1", 5);
        CollectResponse collected = stub.collect(collect("run-a", "b1", sent));

        List<JudgedPage> pages = new ArrayList<>();
        stub.readJudged(ReadJudgedRequest.newBuilder().setRun("run-a").setAfterSequence(0)
                .setThroughSequence(collected.getLastSequence()).build()).forEachRemaining(pages::add);

        int judgments = pages.stream().mapToInt(JudgedPage::getComparisonsCount).sum();
        assertTrue(collected.getNewJudgments() > 0, "the panel judged the batch: " + collected);
        assertTrue(judgments > 0 && judgments <= collected.getNewJudgments(), "the training pairs among them (skips "
                + "left out): " + judgments + " of " + collected.getNewJudgments());
        assertEquals((judgments + PAGE - 1) / PAGE, pages.size(), "pages of " + PAGE);
        long previous = 0;
        Set<String> prompts = new HashSet<>();
        for (JudgedPage page : pages) {
            for (JudgedPair pair : page.getComparisonsList()) {
                assertTrue(pair.getSequence() > previous, "in sequence order");
                previous = pair.getSequence();
                prompts.add(pair.getComparison().getPrompt());
            }
            assertEquals(previous, page.getLastSequence(), "each page says the newest sequence read so far");
        }
        assertTrue(sent.stream().map(Comparison::prompt).toList().containsAll(prompts), "the comparisons sent");
        assertEquals(collected.getLastSequence(), stub.readLastSequence(
                ReadLastSequenceRequest.newBuilder().setRun("run-a").build()).getSequence());
    }

    @Test
    void eachRunHasAStoreOfItsOwn() {
        stub.collect(collect("run-a", "b1", comparisons("b1", 3)));

        long other = stub.readLastSequence(ReadLastSequenceRequest.newBuilder().setRun("run-b")
                .build()).getSequence();

        assertEquals(0, other, "run-b's store has no judgment");
        assertTrue(Files.isDirectory(root.resolve("run-a")) && Files.isDirectory(root.resolve("run-b")));
    }

    @Test
    void badFieldsAnswerInvalidArgumentNamingTheField() {
        CollectRequest valid = collect("run-a", "b1", comparisons("b1", 2));

        assertInvalid("run", () -> stub.collect(valid.toBuilder().setRun("").build()));
        assertInvalid("run", () -> stub.collect(valid.toBuilder().setRun("../escape").build()));
        assertInvalid("run", () -> stub.collect(valid.toBuilder().setRun(".hidden").build()));
        assertInvalid("batch_id", () -> stub.collect(valid.toBuilder().setBatchId("").build()));
        assertInvalid("comparisons", () -> stub.collect(valid.toBuilder().clearComparisons().build()));
        assertInvalid("comparisons[1]", () -> stub.collect(valid.toBuilder()
                .setComparisons(1, ComparedPair.newBuilder().setPrompt("p").setResponseA("a")).build()));
        assertInvalid("people", () -> stub.collect(valid.toBuilder().setPanel(false).setPeople(0).build()));
        assertInvalid("people", () -> stub.collect(valid.toBuilder().setPeople(-1).build()));
        ReadJudgedRequest read = ReadJudgedRequest.newBuilder().setRun("run-a").setAfterSequence(0)
                .setThroughSequence(5).build();
        assertInvalid("after_sequence", () -> stub.readJudged(read.toBuilder().setAfterSequence(-1).build())
                .forEachRemaining(page -> {}));
        assertInvalid("through_sequence", () -> stub.readJudged(read.toBuilder().setAfterSequence(6).build())
                .forEachRemaining(page -> {}));

        assertTrue(stub.collect(valid).getNewJudgments() > 0, "the valid request still works");
        assertEquals(Set.of("run-a"), Set.of(root.toFile().list()), "no store was made for a bad run name");
    }

    private static CollectRequest collect(String run, String batch, List<Comparison> comparisons) {
        return CollectorMessages.collect(run, new PreferenceCollector.Collect(batch, comparisons, "v1", null));
    }

    private static List<Comparison> comparisons(String batch, int count) {
        List<Comparison> comparisons = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            comparisons.add(new Comparison("Tell me about the hotel " + batch + "-" + i + ".",
                    " The room was nice and the staff was friendly.", " The staff was rude."));
        }
        return comparisons;
    }

    private static void assertInvalid(String field, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription().startsWith(field), "description names " + field + ": "
                + e.getStatus().getDescription());
    }
}
