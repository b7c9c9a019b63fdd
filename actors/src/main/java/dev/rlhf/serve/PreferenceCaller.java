package dev.rlhf.serve;

import io.grpc.Context;
import io.grpc.Status;

/**
 * Who a PreferenceService call comes from, as {@link AnnotatorTokenInterceptor} found from its token; in the call's
 * {@link Context} under {@link #KEY}, absent when authentication is off.
 *
 * @param annotatorId the token's annotator; empty for the server's own token (an operator's tool)
 * @param admin whether the call may use the admin RPCs (the server's token always may)
 */
record PreferenceCaller(String annotatorId, boolean admin) {
    /** The caller of the current call; null when authentication is off. */
    static final Context.Key<PreferenceCaller> KEY = Context.key("rlhf-preference-caller");

    /** Why the calls that need an identity are refused while authentication is off. */
    static final String NO_ANNOTATORS = "no annotators are registered: add one with `rlhf annotators add`";

    /** The operator: the server's token, admin, acting for any annotator. */
    static PreferenceCaller operator() {
        return new PreferenceCaller("", true);
    }

    /** Whether this is the server's token rather than an annotator's. */
    boolean isOperator() {
        return annotatorId.isEmpty();
    }

    /**
     * The annotator a request acts for. An annotator's token acts for that annotator: an empty {@code claimed} means
     * them, another id answers PERMISSION_DENIED (admins included: only the server's token acts for others). Without
     * an annotator's token (authentication off, or the server's token) {@code claimed} is taken as it is.
     *
     * @throws io.grpc.StatusRuntimeException PERMISSION_DENIED naming annotator_id
     */
    static String actingAnnotator(String claimed) {
        PreferenceCaller caller = KEY.get();
        if (caller == null || caller.isOperator() || claimed.equals(caller.annotatorId())) {
            return claimed;
        }
        if (claimed.isEmpty()) {
            return caller.annotatorId();
        }
        throw Status.PERMISSION_DENIED.withDescription("annotator_id " + claimed + " is not the owner of the bearer "
                + "token (" + caller.annotatorId() + "); leave it empty or send " + caller.annotatorId())
                .asRuntimeException();
    }

    /**
     * The caller of an admin RPC.
     *
     * @throws io.grpc.StatusRuntimeException PERMISSION_DENIED while authentication is off or for a non-admin token
     */
    static PreferenceCaller requireAdmin() {
        PreferenceCaller caller = KEY.get();
        if (caller == null) {
            throw Status.PERMISSION_DENIED.withDescription(NO_ANNOTATORS).asRuntimeException();
        }
        if (!caller.admin()) {
            throw Status.PERMISSION_DENIED.withDescription("annotator " + caller.annotatorId()
                    + " is not an admin").asRuntimeException();
        }
        return caller;
    }
}
