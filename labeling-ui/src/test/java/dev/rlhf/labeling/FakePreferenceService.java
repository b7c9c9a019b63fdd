package dev.rlhf.labeling;

import dev.rlhf.proto.v1.AddAnnotatorRequest;
import dev.rlhf.proto.v1.AddAnnotatorResponse;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.ExportLine;
import dev.rlhf.proto.v1.ExportRequest;
import dev.rlhf.proto.v1.GetQueueStatusRequest;
import dev.rlhf.proto.v1.Identity;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.NextTaskResponse;
import dev.rlhf.proto.v1.PreferenceServiceGrpc;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.proto.v1.QueueStatus;
import dev.rlhf.proto.v1.RetractJudgmentRequest;
import dev.rlhf.proto.v1.RetractJudgmentResponse;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import dev.rlhf.proto.v1.WhoAmIRequest;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A PreferenceService double for the HTTP tests: two tokens ("ann-token" for annotator ann, "admin-token" for
 * admin boss), one task, and a record of what it was sent with which token.
 */
final class FakePreferenceService extends PreferenceServiceGrpc.PreferenceServiceImplBase {
    static final Context.Key<String> TOKEN = Context.key("token");
    static final Map<String, Identity> IDENTITIES = Map.of(
            "ann-token", Identity.newBuilder().setAnnotatorId("ann").build(),
            "admin-token", Identity.newBuilder().setAnnotatorId("boss").setAdmin(true).build());
    static final ComparisonTask TASK = ComparisonTask.newBuilder().setTaskId("task-1").setPromptId("p1")
            .addCandidates(Candidate.newBuilder().setText("candidate zero"))
            .addCandidates(Candidate.newBuilder().setText("candidate one")).build();

    /** A submission with the token it came with. */
    record Received(String token, JudgmentSubmission submission) {
    }

    final List<Received> submissions = new CopyOnWriteArrayList<>();
    final List<String> retracted = new CopyOnWriteArrayList<>();
    volatile Status failNext;

    /** Reads the bearer token into the call's context, as the real server's interceptor does. */
    static ServerInterceptor tokenReader() {
        Metadata.Key<String> auth = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                    ServerCallHandler<Q, R> next) {
                String value = headers.get(auth);
                String token = value != null && value.startsWith("Bearer ") ? value.substring(7) : "";
                return Contexts.interceptCall(Context.current().withValue(TOKEN, token), call, headers, next);
            }
        };
    }

    private static boolean known(StreamObserver<?> o) {
        if (!IDENTITIES.containsKey(TOKEN.get())) {
            o.onError(Status.UNAUTHENTICATED.withDescription("unknown token").asRuntimeException());
            return false;
        }
        return true;
    }

    private boolean failed(StreamObserver<?> o) {
        Status s = failNext;
        if (s != null) {
            failNext = null;
            o.onError(s.asRuntimeException());
            return true;
        }
        return false;
    }

    @Override
    public void whoAmI(WhoAmIRequest request, StreamObserver<Identity> o) {
        if (known(o)) {
            o.onNext(IDENTITIES.get(TOKEN.get()));
            o.onCompleted();
        }
    }

    @Override
    public void nextTask(NextTaskRequest request, StreamObserver<NextTaskResponse> o) {
        if (known(o) && !failed(o)) {
            o.onNext(NextTaskResponse.newBuilder().setTask(TASK)
                    .setPrompt(Prompt.newBuilder().setPromptId("p1").setText("the prompt")).build());
            o.onCompleted();
        }
    }

    @Override
    public void submitJudgment(SubmitJudgmentRequest request, StreamObserver<SubmitJudgmentResponse> o) {
        if (known(o) && !failed(o)) {
            submissions.add(new Received(TOKEN.get(), request.getSubmission()));
            o.onNext(SubmitJudgmentResponse.newBuilder().setJudgmentId(request.getSubmission().getJudgmentId())
                    .setSequence(submissions.size()).build());
            o.onCompleted();
        }
    }

    @Override
    public void retractJudgment(RetractJudgmentRequest request, StreamObserver<RetractJudgmentResponse> o) {
        if (known(o) && !failed(o)) {
            retracted.add(request.getJudgmentId());
            o.onNext(RetractJudgmentResponse.newBuilder().setTaskId("task-1").build());
            o.onCompleted();
        }
    }

    @Override
    public void getQueueStatus(GetQueueStatusRequest request, StreamObserver<QueueStatus> o) {
        if (known(o) && !failed(o)) {
            o.onNext(QueueStatus.newBuilder().setJudgedSince(request.getSince().getSeconds() > 0 ? 2 : 0)
                    .setJudgedTotal(5).setTasksLeft(7).setUndoWindowMillis(60_000).build());
            o.onCompleted();
        }
    }

    @Override
    public void addAnnotator(AddAnnotatorRequest request, StreamObserver<AddAnnotatorResponse> o) {
        if (known(o) && !failed(o)) {
            o.onNext(AddAnnotatorResponse.newBuilder().setName(request.getName()).setToken("new-token").build());
            o.onCompleted();
        }
    }

    @Override
    public void export(ExportRequest request, StreamObserver<ExportLine> o) {
        if (known(o) && !failed(o)) {
            o.onNext(ExportLine.newBuilder().setLine("{\"n\":1}").build());
            o.onNext(ExportLine.newBuilder().setLine("{\"n\":2}").build());
            o.onCompleted();
        }
    }
}
