package dev.rlhf.labeling;

import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.protobuf.Timestamp;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.GetQueueStatusRequest;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.NextTaskRequest;
import dev.rlhf.proto.v1.NextTaskResponse;
import dev.rlhf.proto.v1.QueueStatus;
import dev.rlhf.proto.v1.RetractJudgmentRequest;
import dev.rlhf.proto.v1.RetractJudgmentResponse;
import dev.rlhf.proto.v1.SubmitJudgmentRequest;
import dev.rlhf.proto.v1.SubmitJudgmentResponse;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The annotator's work: the guidelines, the next task with its candidates on the annotator's screen sides, judging
 * (translated back to the true pair), undo, and progress.
 */
final class AnnotatorRoutes {
    private final StoreGateway store;
    private final int maxRationaleBytes;
    private final String guidelinesHtml;

    AnnotatorRoutes(StoreGateway store, int maxRationaleBytes, String guidelinesMarkdown) {
        this.store = store;
        this.maxRationaleBytes = maxRationaleBytes;
        this.guidelinesHtml = GuidelinesRenderer.render(guidelinesMarkdown);
    }

    void addTo(Router router) {
        router.add("GET", "/api/guidelines", Route.Access.ANNOTATOR, this::guidelines)
                .add("GET", "/api/task", Route.Access.ANNOTATOR, this::nextTask)
                .add("POST", "/api/judgments", Route.Access.ANNOTATOR, this::submit)
                .add("DELETE", "/api/judgments/([^/]+)", Route.Access.ANNOTATOR, this::retract)
                .add("GET", "/api/progress", Route.Access.ANNOTATOR, this::progress);
    }

    private CompletionStage<HttpResponse> guidelines(ApiCall call) {
        JsonObject o = new JsonObject();
        o.addProperty("html", guidelinesHtml);
        return Responses.done(Responses.json(200, o));
    }

    private CompletionStage<HttpResponse> nextTask(ApiCall call) {
        SessionStore.Session s = call.session();
        return store.<NextTaskResponse>call(s, (st, o) -> st.nextTask(NextTaskRequest.getDefaultInstance(), o), r -> {
            JsonObject out = new JsonObject();
            if (!r.hasTask() || r.getTask().getCandidatesCount() < 2) {
                out.add("task", JsonNull.INSTANCE);
                return Responses.json(200, out);
            }
            ComparisonTask task = r.getTask();
            ScreenSides sides = ScreenSides.of(s.annotator(), task.getTaskId());
            JsonObject t = new JsonObject();
            t.addProperty("id", task.getTaskId());
            t.addProperty("prompt", r.getPrompt().getText());
            t.addProperty("a", task.getCandidates(sides.candidateShownAsA()).getText());
            t.addProperty("b", task.getCandidates(sides.candidateShownAsB()).getText());
            out.add("task", t);
            return Responses.json(200, out);
        });
    }

    private CompletionStage<HttpResponse> submit(ApiCall call) {
        SessionStore.Session s = call.session();
        Requests.Submit submit = Requests.submit(Json.parseObject(call.body()), maxRationaleBytes);
        ScreenSides sides = ScreenSides.of(s.annotator(), submit.taskId());
        JudgmentSubmission.Builder j = JudgmentSubmission.newBuilder()
                .setJudgmentId(submit.judgmentId())
                .setTaskId(submit.taskId())
                .setChoice(sides.toTrue(submit.screenChoice()))
                .setCandidateA(0)
                .setCandidateB(1);
        submit.strength().ifPresent(j::setStrength);
        submit.rationale().ifPresent(j::setRationale);
        SubmitJudgmentRequest req = SubmitJudgmentRequest.newBuilder().setSubmission(j).build();
        return store.<SubmitJudgmentResponse>call(s, (st, o) -> st.submitJudgment(req, o), r -> {
            JsonObject out = new JsonObject();
            out.addProperty("judgmentId", r.getJudgmentId());
            out.addProperty("sequence", r.getSequence());
            return Responses.json(200, out);
        });
    }

    private CompletionStage<HttpResponse> retract(ApiCall call) {
        String id = Requests.judgmentId(call.path().group(1), "judgmentId");
        RetractJudgmentRequest req = RetractJudgmentRequest.newBuilder().setJudgmentId(id).build();
        return store.<RetractJudgmentResponse>call(call.session(), (st, o) -> st.retractJudgment(req, o), r -> {
            JsonObject out = new JsonObject();
            out.addProperty("taskId", r.getTaskId());
            return Responses.json(200, out);
        });
    }

    private CompletionStage<HttpResponse> progress(ApiCall call) {
        Instant since = Requests.since(call.query("since"));
        GetQueueStatusRequest req = GetQueueStatusRequest.newBuilder().setSince(Timestamp.newBuilder()
                .setSeconds(since.getEpochSecond()).setNanos(since.getNano())).build();
        return store.<QueueStatus>call(call.session(), (st, o) -> st.getQueueStatus(req, o), r -> {
            JsonObject out = new JsonObject();
            out.addProperty("doneSince", r.getJudgedSince());
            out.addProperty("doneTotal", r.getJudgedTotal());
            out.addProperty("tasksLeft", r.getTasksLeft());
            out.addProperty("undoWindowMs", r.getUndoWindowMillis());
            return Responses.json(200, out);
        });
    }
}
