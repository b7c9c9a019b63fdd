package dev.rlhf.labeling;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.protobuf.Timestamp;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.AnnotatorAgreement;
import dev.rlhf.proto.v1.AnnotatorSummary;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Disagreement;
import dev.rlhf.proto.v1.DisagreementList;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.QueueState;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * The store's reports as the admin page reads them: NaN as null, instants as ISO text, choices by their page names
 * over the true pair ({@code a} = candidate 0).
 */
final class AdminReports {
    private AdminReports() {
    }

    static JsonObject overview(LabelingOverview r) {
        JsonArray annotators = new JsonArray();
        for (AnnotatorSummary a : r.getAnnotatorsList()) {
            JsonObject o = new JsonObject();
            o.addProperty("name", a.getName());
            o.addProperty("admin", a.getAdmin());
            o.addProperty("revoked", a.getRevoked());
            o.addProperty("judgments", a.getJudgments());
            o.addProperty("skips", a.getSkips());
            o.addProperty("judgmentsLastHour", a.getJudgmentsLastHour());
            o.add("medianSecondsBetween", Json.finite(a.getMedianSecondsBetween()));
            o.addProperty("lastJudgedAt", a.hasLastJudgedAt() ? instant(a.getLastJudgedAt()) : null);
            annotators.add(o);
        }
        QueueState q = r.getQueue();
        JsonObject queue = new JsonObject();
        queue.addProperty("tasks", q.getTasks());
        queue.addProperty("openTasks", q.getOpenTasks());
        queue.addProperty("activeLeases", q.getActiveLeases());
        queue.addProperty("judgments", q.getJudgments());
        queue.addProperty("adjudicatedTasks", q.getAdjudicatedTasks());
        JsonObject out = new JsonObject();
        out.add("annotators", annotators);
        out.add("queue", queue);
        return out;
    }

    static JsonObject agreement(AgreementReport r) {
        JsonObject out = new JsonObject();
        out.add("krippendorffAlpha", Json.finite(r.getKrippendorffAlpha()));
        out.add("percentAgreement", Json.finite(r.getPercentAgreement()));
        out.addProperty("items", r.getItems());
        out.addProperty("judgments", r.getJudgments());
        JsonArray pairs = new JsonArray();
        r.getPairwiseList().forEach(p -> {
            JsonObject o = new JsonObject();
            o.addProperty("annotatorA", p.getAnnotatorA());
            o.addProperty("annotatorB", p.getAnnotatorB());
            o.add("kappa", Json.finite(p.getKappa()));
            o.addProperty("sharedItems", p.getSharedItems());
            pairs.add(o);
        });
        out.add("pairwise", pairs);
        JsonArray annotators = new JsonArray();
        for (AnnotatorAgreement a : r.getAnnotatorsList()) {
            JsonObject o = new JsonObject();
            o.addProperty("annotator", a.getAnnotator());
            o.add("agreementWithMajority", Json.finite(a.getAgreementWithMajority()));
            o.addProperty("items", a.getItems());
            annotators.add(o);
        }
        out.add("annotators", annotators);
        return out;
    }

    static JsonObject disagreements(DisagreementList r) {
        JsonArray list = new JsonArray();
        for (Disagreement d : r.getDisagreementsList()) {
            list.add(disagreement(d));
        }
        JsonObject out = new JsonObject();
        out.add("disagreements", list);
        return out;
    }

    private static JsonObject disagreement(Disagreement d) {
        JsonObject o = new JsonObject();
        o.addProperty("taskId", d.getTask().getTaskId());
        o.addProperty("prompt", d.getPrompt().getText());
        o.addProperty("a", d.getTask().getCandidatesCount() > 0 ? d.getTask().getCandidates(0).getText() : "");
        o.addProperty("b", d.getTask().getCandidatesCount() > 1 ? d.getTask().getCandidates(1).getText() : "");
        JsonArray judgments = new JsonArray();
        for (Judgment j : d.getJudgmentsList()) {
            JudgmentSubmission sub = j.getSubmission();
            JsonObject jo = new JsonObject();
            jo.addProperty("annotator", sub.getAnnotatorId());
            jo.addProperty("choice", wireName(onFirstPair(sub.getChoice(), sub.getCandidateA(), sub.getCandidateB())));
            jo.addProperty("strength", sub.hasStrength() ? sub.getStrength() : null);
            jo.addProperty("rationale", sub.hasRationale() ? sub.getRationale() : null);
            judgments.add(jo);
        }
        o.add("judgments", judgments);
        if (d.hasAdjudication()) {
            Adjudication a = d.getAdjudication();
            JsonObject ao = new JsonObject();
            ao.addProperty("choice", wireName(onFirstPair(a.getChoice(), a.getCandidateA(), a.getCandidateB())));
            ao.addProperty("adjudicator", a.getAdjudicator());
            ao.addProperty("note", a.hasNote() ? a.getNote() : null);
            o.add("adjudication", ao);
        } else {
            o.add("adjudication", JsonNull.INSTANCE);
        }
        return o;
    }

    static JsonObject adjudication(Adjudication r) {
        JsonObject out = new JsonObject();
        out.addProperty("taskId", r.getTaskId());
        out.addProperty("choice", wireName(r.getChoice()));
        out.addProperty("adjudicator", r.getAdjudicator());
        return out;
    }

    private static String instant(Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
    }

    /** A verdict over (candidateA, candidateB) as a verdict over (0, 1), when the pair is those two. */
    private static Choice onFirstPair(Choice c, int candidateA, int candidateB) {
        boolean reversed = candidateA == 1 && candidateB == 0;
        return reversed ? new ScreenSides(true).toTrue(c) : c;
    }

    /** The name the pages use for a choice. */
    private static String wireName(Choice c) {
        for (Map.Entry<String, Choice> e : Requests.CHOICES.entrySet()) {
            if (e.getValue() == c) {
                return e.getKey();
            }
        }
        return c.name().toLowerCase(Locale.ROOT);
    }
}
