package dev.rlhf.serve;

import dev.rlhf.proto.v1.AddAnnotatorRequest;
import dev.rlhf.proto.v1.AddAnnotatorResponse;
import dev.rlhf.proto.v1.AdjudicateRequest;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.AgreementReport;
import dev.rlhf.proto.v1.DisagreementList;
import dev.rlhf.proto.v1.GetAgreementRequest;
import dev.rlhf.proto.v1.GetLabelingOverviewRequest;
import dev.rlhf.proto.v1.LabelingOverview;
import dev.rlhf.proto.v1.ListDisagreementsRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorRequest;
import dev.rlhf.proto.v1.RevokeAnnotatorResponse;
import dev.rlhf.store.PreferenceStore;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;

/**
 * The admin RPCs of PreferenceService, for {@link PreferenceGrpcService} to hand over: each first requires an admin
 * caller (an admin annotator's token or the server's), else PERMISSION_DENIED, and answers as {@link StoreCalls}
 * says.
 */
final class PreferenceAdminCalls {
    /** Disagreements listed when a request sets no limit. */
    static final int DEFAULT_DISAGREEMENTS = 100;
    /** Shared items a pair of annotators needs for a kappa when a request sets none. */
    static final int DEFAULT_MIN_SHARED_ITEMS = 5;
    /** The adjudicator recorded for the server's own token, which names no annotator. */
    static final String OPERATOR = "operator";

    private final PreferenceStore store;

    PreferenceAdminCalls(PreferenceStore store) {
        this.store = store;
    }

    /** Registers an annotator and answers their token, shown this once. */
    void addAnnotator(AddAnnotatorRequest request, StreamObserver<AddAnnotatorResponse> observer) {
        if (refusedUnlessAdmin(observer)) {
            return;
        }
        StoreCalls.answer(store.addAnnotator(request.getName(), request.getAdmin()), token ->
                AddAnnotatorResponse.newBuilder().setName(request.getName()).setToken(token).build(), observer);
    }

    /** Revokes an annotator's token; their next call is refused. */
    void revokeAnnotator(RevokeAnnotatorRequest request, StreamObserver<RevokeAnnotatorResponse> observer) {
        if (refusedUnlessAdmin(observer)) {
            return;
        }
        StoreCalls.answer(store.revokeAnnotator(request.getName()),
                revoked -> RevokeAnnotatorResponse.getDefaultInstance(), observer);
    }

    /** Every annotator with counts and pace, and the queue. */
    void getLabelingOverview(GetLabelingOverviewRequest request, StreamObserver<LabelingOverview> observer) {
        if (refusedUnlessAdmin(observer)) {
            return;
        }
        StoreCalls.answerNow(store::labelingOverview, observer);
    }

    /** The agreement report; min_shared_items 0 means {@link #DEFAULT_MIN_SHARED_ITEMS}. */
    void getAgreement(GetAgreementRequest request, StreamObserver<AgreementReport> observer) {
        if (refusedUnlessAdmin(observer)) {
            return;
        }
        int minShared = request.getMinSharedItems();
        StoreCalls.answerNow(() -> store.agreement(minShared == 0 ? DEFAULT_MIN_SHARED_ITEMS
                : nonNegative(minShared, "min_shared_items")), observer);
    }

    /** Tasks annotators disagree on, oldest first; limit 0 means {@link #DEFAULT_DISAGREEMENTS}. */
    void listDisagreements(ListDisagreementsRequest request, StreamObserver<DisagreementList> observer) {
        if (refusedUnlessAdmin(observer)) {
            return;
        }
        int limit = request.getLimit();
        StoreCalls.answerNow(() -> DisagreementList.newBuilder().addAllDisagreements(store.disagreements(
                limit == 0 ? DEFAULT_DISAGREEMENTS : nonNegative(limit, "limit"), request.getUnadjudicatedOnly()))
                .build(), observer);
    }

    /** Records the caller's verdict on a task (the server's token as {@link #OPERATOR}). */
    void adjudicate(AdjudicateRequest request, StreamObserver<Adjudication> observer) {
        PreferenceCaller caller;
        try {
            caller = PreferenceCaller.requireAdmin();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        }
        String adjudicator = caller.isOperator() ? OPERATOR : caller.annotatorId();
        StoreCalls.answer(store.adjudicate(request.getAdjudication().toBuilder().setAdjudicator(adjudicator).build()),
                adjudication -> adjudication, observer);
    }

    /** Answers PERMISSION_DENIED and returns true unless the caller is an admin. */
    private static boolean refusedUnlessAdmin(StreamObserver<?> observer) {
        try {
            PreferenceCaller.requireAdmin();
            return false;
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return true;
        }
    }

    private static int nonNegative(int value, String field) {
        if (value < 0) {
            throw Status.INVALID_ARGUMENT.withDescription(field + " must not be negative but was " + value)
                    .asRuntimeException();
        }
        return value;
    }
}
