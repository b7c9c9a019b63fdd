package dev.rlhf.store;

import dev.rlhf.proto.v1.Annotator;

/**
 * Revokes an annotator's token: the record stays with {@code revoked_at} set (so the name stays taken and their
 * judgments keep an owner) and the hash index entry goes, so the token finds no one. Revoking twice changes nothing.
 */
final class RevokeAnnotator implements StoreChange<Annotator> {

    private final String name;

    RevokeAnnotator(String name) {
        Keys.requireValidId(name, "name");
        this.name = name;
    }

    @Override
    public Annotator apply(ChangeScope scope) {
        Annotator annotator = scope.get(Column.ANNOTATORS, Keys.id(name), Annotator.parser())
                .orElseThrow(() -> new ChangeRejectedException(RejectionReason.UNKNOWN_ANNOTATOR, "name",
                        "no annotator named " + name + " is registered"));
        if (annotator.hasRevokedAt()) {
            return annotator;
        }
        Annotator revoked = annotator.toBuilder().setRevokedAt(scope.now()).build();
        scope.put(Column.ANNOTATORS, Keys.id(name), revoked);
        scope.delete(Column.ANNOTATOR_TOKENS, annotator.getTokenSha256().toByteArray());
        return revoked;
    }
}
