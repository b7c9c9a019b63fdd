package dev.rlhf.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.FieldDescriptor;
import dev.rlhf.proto.v1.GenerateRequest;
import dev.rlhf.proto.v1.PromptInput;
import dev.rlhf.proto.v1.TokenIds;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The caps checked on a request's wire bytes, without a server. */
class FieldCapsTest {
    private static final FieldDescriptor TEXT =
            PromptInput.getDescriptor().findFieldByNumber(PromptInput.TEXT_FIELD_NUMBER);
    private static final FieldDescriptor STOP =
            GenerateRequest.getDescriptor().findFieldByNumber(GenerateRequest.STOP_FIELD_NUMBER);
    private static final FieldCaps CAPS = new FieldCaps(Map.of(TEXT, 4, STOP, 2), Map.of(STOP, 2));

    private static Optional<String> violation(GenerateRequest request) {
        return CAPS.violation(GenerateRequest.getDescriptor(), request.toByteArray());
    }

    private static PromptInput text(String text) {
        return PromptInput.newBuilder().setText(text).build();
    }

    @Test
    void aNestedFieldOverItsCapIsNamedByItsPathWithItsSize() {
        GenerateRequest request = GenerateRequest.newBuilder()
                .addPrompts(text("abcd"))
                .addPrompts(PromptInput.newBuilder().setTokenIds(TokenIds.newBuilder().addIds(1).addIds(2)))
                .addPrompts(text("éé!"))
                .build();

        assertEquals(Optional.of("prompts[2].text holds 5 bytes, more than the server's cap of 4"),
                violation(request));
    }

    @Test
    void tooManyValuesAreNamedByTheRepeatedField() {
        assertEquals(Optional.of("stop holds 3 strings, more than the server's cap of 2"),
                violation(GenerateRequest.newBuilder().addAllStop(List.of("a", "b", "c")).build()));
        assertEquals(Optional.of("stop[1] holds 3 bytes, more than the server's cap of 2"),
                violation(GenerateRequest.newBuilder().addAllStop(List.of("a", "bcd")).build()));
    }

    @Test
    void requestsWithinTheCapsPassAndMalformedBytesAreLeftToTheParser() {
        GenerateRequest atCaps = GenerateRequest.newBuilder()
                .addPrompts(text("éé")).addAllStop(List.of("ab", "é")).setMaxNewTokens(4).build();
        ByteString unknownField = RawCalls.field(99, ByteString.copyFromUtf8("anything, of any size"));
        byte[] truncated = atCaps.toByteString().substring(0, 5).toByteArray();

        assertEquals(Optional.empty(), violation(atCaps));
        assertEquals(Optional.empty(), CAPS.violation(GenerateRequest.getDescriptor(),
                atCaps.toByteString().concat(unknownField).toByteArray()));
        assertEquals(Optional.empty(), CAPS.violation(GenerateRequest.getDescriptor(), truncated));
    }

    @Test
    void onlyStringFieldsTakeAByteCap() {
        FieldDescriptor tokenIds = PromptInput.getDescriptor().findFieldByNumber(PromptInput.TOKEN_IDS_FIELD_NUMBER);

        assertThrows(IllegalArgumentException.class, () -> new FieldCaps(Map.of(tokenIds, 4), Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new FieldCaps(Map.of(TEXT, 0), Map.of()));
    }
}
