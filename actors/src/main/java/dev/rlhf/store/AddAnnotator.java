package dev.rlhf.store;

import com.google.protobuf.ByteString;
import dev.rlhf.proto.v1.Annotator;

/**
 * Registers an annotator under a name not yet taken (revoked names stay taken), with the hash of their token, and
 * indexes the hash so that a call bearing the token finds them.
 */
final class AddAnnotator implements StoreChange<Annotator> {

    private final String name;
    private final boolean admin;
    private final byte[] tokenSha256;

    /** @throws ChangeRejectedException with {@link RejectionReason#INVALID_ID} for a name breaking the id rules */
    AddAnnotator(String name, boolean admin, byte[] tokenSha256) {
        Keys.requireValidId(name, "name");
        this.name = name;
        this.admin = admin;
        this.tokenSha256 = tokenSha256.clone();
    }

    @Override
    public Annotator apply(ChangeScope scope) {
        if (scope.get(Column.ANNOTATORS, Keys.id(name)) != null) {
            throw new ChangeRejectedException(RejectionReason.NAME_TAKEN, "name",
                    "an annotator named " + name + " is already registered");
        }
        Annotator annotator = Annotator.newBuilder()
                .setName(name)
                .setTokenSha256(ByteString.copyFrom(tokenSha256))
                .setAdmin(admin)
                .setCreatedAt(scope.now())
                .build();
        scope.put(Column.ANNOTATORS, Keys.id(name), annotator);
        scope.put(Column.ANNOTATOR_TOKENS, tokenSha256, Keys.id(name));
        return annotator;
    }
}
