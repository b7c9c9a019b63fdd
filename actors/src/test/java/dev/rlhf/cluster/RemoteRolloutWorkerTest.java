package dev.rlhf.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.RolloutWorker;
import dev.rlhf.policy.generate.GenerationRequest;
import dev.rlhf.policy.generate.SamplingParams;
import dev.rlhf.proto.v1.FinishReason;
import dev.rlhf.proto.v1.GenerateChunkRequest;
import dev.rlhf.proto.v1.GenerateChunkResponse;
import dev.rlhf.proto.v1.RolloutCompletion;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The coordinator's proxy of a worker node, over a real loopback socket to a worker that answers out of bounds: the
 * caller gets an error naming the field, and the proxy stops, as after any failed call, so the chunk goes elsewhere.
 */
class RemoteRolloutWorkerTest {
    private static final ActorTestKit TESTKIT = ActorTestKit.create();
    private static final int VOCAB = 40;

    private Server server;

    @AfterEach
    void stopServer() throws InterruptedException {
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stopTestKit() {
        TESTKIT.shutdownTestKit();
    }

    @Test
    void aWorkerAnsweringATokenOutsideTheVocabularyIsDroppedWithTheFieldNamed() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0),
                        InsecureServerCredentials.create())
                .addService(new RolloutServiceGrpc.RolloutServiceImplBase() {
                    @Override
                    public void generateChunk(GenerateChunkRequest request,
                            StreamObserver<GenerateChunkResponse> observer) {
                        observer.onNext(GenerateChunkResponse.newBuilder()
                                .setChunk(request.getChunk())
                                .addCompletions(RolloutCompletion.newBuilder()
                                        .addTokenIds(3).addTokenIds(VOCAB)
                                        .addLogprobs(-1f).addLogprobs(-2f)
                                        .setFinishReason(FinishReason.FINISH_REASON_LENGTH))
                                .build());
                        observer.onCompleted();
                    }
                })
                .build().start();
        ActorRef<RolloutWorker.Command> proxy = TESTKIT.spawn(RemoteRolloutWorker.create(0,
                new NodeEndpoint.Address("127.0.0.1", server.getPort(), "test-node"), new EncodedWeights(1 << 20),
                Optional.empty(), ClusterSettings.from(ConfigFactory.load()), VOCAB));
        TestProbe<StatusReply<RolloutWorker.Rollout>> caller = TESTKIT.createTestProbe();

        proxy.tell(new RolloutWorker.Generate(5, List.of(new GenerationRequest(new int[] {1},
                SamplingParams.sample(4, 1))), caller.getRef()));

        StatusReply<RolloutWorker.Rollout> reply = caller.receiveMessage();
        assertTrue(reply.isError(), "the caller is told the chunk failed: " + reply);
        assertTrue(reply.getError().getMessage().contains("completions[0].token_ids[1]"),
                "the error names the field: " + reply.getError().getMessage());
        caller.expectTerminated(proxy);
    }
}
