package dev.rlhf.store;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/** Annotators' bearer tokens: fresh ones from {@link SecureRandom}, and the SHA-256 the store keeps instead. */
final class AnnotatorTokens {

    /** Random bytes in a token: 256 bits. */
    static final int TOKEN_BYTES = 32;

    private final SecureRandom random;

    AnnotatorTokens(SecureRandom random) {
        this.random = random;
    }

    /** A new token: {@link #TOKEN_BYTES} random bytes, base64url without padding (43 characters). */
    String fresh() {
        byte[] bytes = new byte[TOKEN_BYTES];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    /** SHA-256 of the token's UTF-8 bytes. */
    static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
    }
}
