package dev.rlhf.store;

import static dev.rlhf.store.StoreFixture.rejection;
import static dev.rlhf.store.StoreFixture.settings;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Annotator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Annotators are registered with a fresh token stored only as its SHA-256, found by it, and revoked at once. */
class AnnotatorRegistryTest {

    @TempDir Path dir;
    private PreferenceStore store;

    @BeforeEach
    void openStore() {
        store = PreferenceStore.open(settings(dir));
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    @Test
    void anAddedAnnotatorsTokenFindsThemAndIs32RandomBytesInBase64Url() {
        String alice = store.addAnnotator("alice", true).join();
        String bob = store.addAnnotator("bob", false).join();

        Annotator found = store.annotatorByToken(alice).orElseThrow();
        assertEquals("alice", found.getName());
        assertTrue(found.getAdmin());
        assertFalse(store.annotatorByToken(bob).orElseThrow().getAdmin());
        assertEquals(32, Base64.getUrlDecoder().decode(alice).length, alice);
        assertFalse(alice.contains("="), "no padding: " + alice);
        assertNotEquals(alice, bob);
        assertEquals(Optional.empty(), store.annotatorByToken("not-a-token"));
        assertEquals(List.of("alice", "bob"), store.annotators().stream().map(Annotator::getName).toList());
        assertTrue(store.hasAdmin());
        assertTrue(store.hasAnnotators());
    }

    @Test
    void aTakenNameOrABadNameIsRejectedRevokedNamesIncluded() {
        store.addAnnotator("alice", false).join();
        store.revokeAnnotator("alice").join();

        assertEquals(RejectionReason.NAME_TAKEN, rejection(store.addAnnotator("alice", false)).reason());
        ChangeRejectedException empty = rejection(store.addAnnotator("", false));
        ChangeRejectedException nul = rejection(store.addAnnotator("a\0b", false));
        ChangeRejectedException longName = rejection(store.addAnnotator("x".repeat(129), false));
        for (ChangeRejectedException e : List.of(empty, nul, longName)) {
            assertEquals(RejectionReason.INVALID_ID, e.reason(), e.getMessage());
            assertEquals("name", e.field(), e.getMessage());
        }
    }

    @Test
    void aRevokedTokenFindsNoOneFromTheNextLookupAndReopeningKeepsItSo() {
        String token = store.addAnnotator("alice", true).join();

        Annotator revoked = store.revokeAnnotator("alice").join();

        assertTrue(revoked.hasRevokedAt());
        assertEquals(Optional.empty(), store.annotatorByToken(token));
        assertFalse(store.hasAdmin(), "a revoked admin is no admin");
        assertTrue(store.hasAnnotators(), "revoking everyone must not turn authentication off");
        assertEquals(RejectionReason.UNKNOWN_ANNOTATOR, rejection(store.revokeAnnotator("nobody")).reason());
        store.close();
        store = PreferenceStore.open(settings(dir));
        assertEquals(Optional.empty(), store.annotatorByToken(token));
        assertTrue(store.annotators().get(0).hasRevokedAt());
    }

    @Test
    void theTokenIsNeverStoredInClearNeitherInAColumnFamilyNorInAFile() throws IOException {
        String token = store.addAnnotator("alice", false).join();
        byte[] clear = token.getBytes(StandardCharsets.UTF_8);
        store.close();

        List<String> hits = new ArrayList<>();
        try (StoreDatabase database = StoreDatabase.open(settings(dir).path());
                StoreReader reader = StoreReader.latest(database)) {
            for (Column column : Column.values()) {
                reader.scan(column, new byte[0], (key, value) -> {
                    if (contains(key, clear) || contains(value, clear)) {
                        hits.add(column.familyName() + ":" + Keys.printable(key));
                    }
                    return true;
                });
            }
        }
        try (Stream<Path> files = Files.walk(settings(dir).path())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (contains(Files.readAllBytes(file), clear)) {
                    hits.add(file.getFileName().toString());
                }
            }
        }
        store = PreferenceStore.open(settings(dir));

        assertEquals(List.of(), hits, "the token's bytes must appear nowhere in the database");
        assertArrayEquals(AnnotatorTokens.sha256(token),
                store.annotators().get(0).getTokenSha256().toByteArray(), "the store keeps the SHA-256");
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
