package dev.rlhf.labeling;

import com.google.gson.JsonObject;
import dev.rlhf.proto.v1.AddAnnotatorRequest;
import dev.rlhf.proto.v1.AddAnnotatorResponse;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AdjudicateRequest;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.DisagreementList;
import dev.rlhf.proto.v1.GetAgreementRequest;
import dev.rlhf.proto.v1.GetLabelingOverviewRequest;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.ListDisagreementsRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorResponse;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The admin's JSON API: the labeling overview, adding and revoking annotators, agreement, disagreements and
 * adjudication over the true pair (0, 1); {@link AdminReports} shapes the answers.
 */
final class AdminRoutes {
    private final StoreGateway store;
    private final int maxNoteBytes;

    AdminRoutes(StoreGateway store, int maxNoteBytes) {
        this.store = store;
        this.maxNoteBytes = maxNoteBytes;
    }

    void addTo(Router router) {
        router.add("GET", "/api/admin/overview", Route.Access.ADMIN, this::overview)
                .add("POST", "/api/admin/annotators", Route.Access.ADMIN, this::addAnnotator)
                .add("DELETE", "/api/admin/annotators/([^/]+)", Route.Access.ADMIN, this::revokeAnnotator)
                .add("GET", "/api/admin/agreement", Route.Access.ADMIN, this::agreement)
                .add("GET", "/api/admin/disagreements", Route.Access.ADMIN, this::disagreements)
                .add("POST", "/api/admin/adjudications", Route.Access.ADMIN, this::adjudicate);
    }

    private CompletionStage<HttpResponse> overview(ApiCall call) {
        return store.<LabelingOverview>call(call.session(),
                (st, o) -> st.getLabelingOverview(GetLabelingOverviewRequest.getDefaultInstance(), o),
                r -> Responses.json(200, AdminReports.overview(r)));
    }

    private CompletionStage<HttpResponse> addAnnotator(ApiCall call) {
        Requests.NewAnnotator a = Requests.newAnnotator(Json.parseObject(call.body()));
        AddAnnotatorRequest req = AddAnnotatorRequest.newBuilder().setName(a.name()).setAdmin(a.admin()).build();
        return store.<AddAnnotatorResponse>call(call.session(), (st, o) -> st.addAnnotator(req, o), r -> {
            JsonObject out = new JsonObject();
            out.addProperty("name", r.getName());
            out.addProperty("token", r.getToken());
            return Responses.json(201, out);
        });
    }

    private CompletionStage<HttpResponse> revokeAnnotator(ApiCall call) {
        // a literal '+' in the path is part of the name, not a space
        String name = Requests.id(URLDecoder.decode(call.path().group(1).replace("+", "%2B"),
                StandardCharsets.UTF_8), "name");
        RevokeAnnotatorRequest req = RevokeAnnotatorRequest.newBuilder().setName(name).build();
        return store.<RevokeAnnotatorResponse>call(call.session(), (st, o) -> st.revokeAnnotator(req, o), r -> {
            JsonObject out = new JsonObject();
            out.addProperty("revoked", name);
            return Responses.json(200, out);
        });
    }

    private CompletionStage<HttpResponse> agreement(ApiCall call) {
        int minShared = Requests.intParam(call.query("minShared"), "minShared", 0, 1_000_000);
        GetAgreementRequest req = GetAgreementRequest.newBuilder().setMinSharedItems(minShared).build();
        return store.<AgreementReport>call(call.session(), (st, o) -> st.getAgreement(req, o),
                r -> Responses.json(200, AdminReports.agreement(r)));
    }

    private CompletionStage<HttpResponse> disagreements(ApiCall call) {
        int limit = Requests.intParam(call.query("limit"), "limit", 100, 1000);
        boolean open = call.query("unadjudicatedOnly").map("true"::equals).orElse(false);
        ListDisagreementsRequest req = ListDisagreementsRequest.newBuilder().setLimit(limit)
                .setUnadjudicatedOnly(open).build();
        return store.<DisagreementList>call(call.session(), (st, o) -> st.listDisagreements(req, o),
                r -> Responses.json(200, AdminReports.disagreements(r)));
    }

    private CompletionStage<HttpResponse> adjudicate(ApiCall call) {
        Requests.Verdict v = Requests.verdict(Json.parseObject(call.body()), maxNoteBytes);
        Adjudication.Builder a = Adjudication.newBuilder().setTaskId(v.taskId()).setChoice(v.choice())
                .setCandidateA(0).setCandidateB(1);
        v.note().ifPresent(a::setNote);
        AdjudicateRequest req = AdjudicateRequest.newBuilder().setAdjudication(a).build();
        return store.<Adjudication>call(call.session(), (st, o) -> st.adjudicate(req, o),
                r -> Responses.json(200, AdminReports.adjudication(r)));
    }
}
