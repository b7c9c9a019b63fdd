package dev.rlhf.serve;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Caps on a request's fields, checked on its wire bytes before protobuf parses them: the bytes of a string field
 * (so oversized text is refused before it is decoded, let alone tokenized) and the number of values of a repeated
 * field. Each value's length prefix gives its size, so the check skips over values instead of reading them: its
 * work grows with the number of fields in the request, not with their size.
 */
final class FieldCaps {
    /** No caps: requests are not looked at before parsing. */
    static final FieldCaps NONE = new FieldCaps(Map.of(), Map.of());

    /** Protobuf's own default nesting limit: a request nested deeper fails to parse anyway. */
    private static final int MAX_DEPTH = 100;

    private final Map<FieldDescriptor, Integer> maxBytes;
    private final Map<FieldDescriptor, Integer> maxCount;
    /** Whether a message type holds a capped field, directly or in a nested message; filled as types are met. */
    private final Map<Descriptor, Boolean> holdsCaps = new ConcurrentHashMap<>();

    /**
     * @param maxBytes most bytes of each listed string field (of each of its values, when repeated)
     * @param maxCount most values of each listed repeated string or message field
     * @throws IllegalArgumentException if a listed field has another type or a cap is not positive
     */
    FieldCaps(Map<FieldDescriptor, Integer> maxBytes, Map<FieldDescriptor, Integer> maxCount) {
        maxBytes.forEach((field, cap) -> {
            if (field.getType() != FieldDescriptor.Type.STRING) {
                throw new IllegalArgumentException(field.getFullName() + " is not a string field");
            }
            requirePositive(field, cap);
        });
        maxCount.forEach((field, cap) -> {
            if (!field.isRepeated() || field.getType() != FieldDescriptor.Type.STRING
                    && field.getType() != FieldDescriptor.Type.MESSAGE) {
                throw new IllegalArgumentException(field.getFullName() + " is not a repeated string or message field");
            }
            requirePositive(field, cap);
        });
        this.maxBytes = Map.copyOf(maxBytes);
        this.maxCount = Map.copyOf(maxCount);
    }

    /**
     * The first cap {@code request}, a {@code type} message on the wire, breaks: a description that starts with
     * the field's path, such as {@code prompts[0].text} or {@code stop}. Empty when it breaks none, and when its
     * bytes are not well-formed (parsing then reports them).
     */
    Optional<String> violation(Descriptor type, byte[] request) {
        if (!holdsCaps(type)) {
            return Optional.empty();
        }
        try {
            return violation(type, CodedInputStream.newInstance(request), "", 0);
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Optional<String> violation(Descriptor type, CodedInputStream in, String prefix, int depth)
            throws IOException {
        Map<FieldDescriptor, Integer> counts = new HashMap<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            FieldDescriptor field = type.findFieldByNumber(WireFormat.getTagFieldNumber(tag));
            if (field == null || WireFormat.getTagWireType(tag) != WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                in.skipField(tag);
                continue;
            }
            int index = counts.merge(field, 1, Integer::sum) - 1;
            int length = in.readRawVarint32();
            Integer cap = maxBytes.get(field);
            if (cap != null && length > cap) {
                return Optional.of(path(prefix, field, index) + " holds " + length
                        + " bytes, more than the server's cap of " + cap);
            }
            if (field.getType() == FieldDescriptor.Type.MESSAGE && depth < MAX_DEPTH
                    && holdsCaps(field.getMessageType())) {
                int outer = in.pushLimit(length);
                Optional<String> inner =
                        violation(field.getMessageType(), in, path(prefix, field, index) + ".", depth + 1);
                if (inner.isPresent()) {
                    return inner;
                }
                in.popLimit(outer);
            } else {
                in.skipRawBytes(length);
            }
        }
        for (Map.Entry<FieldDescriptor, Integer> count : counts.entrySet()) {
            Integer cap = maxCount.get(count.getKey());
            if (cap != null && count.getValue() > cap) {
                String values = count.getKey().getType() == FieldDescriptor.Type.STRING ? " strings" : " messages";
                return Optional.of(prefix + count.getKey().getName() + " holds " + count.getValue() + values
                        + ", more than the server's cap of " + cap);
            }
        }
        return Optional.empty();
    }

    private boolean holdsCaps(Descriptor type) {
        Boolean known = holdsCaps.get(type);
        if (known == null) {
            known = holdsCaps(type, new HashSet<>());
            holdsCaps.put(type, known);
        }
        return known;
    }

    private boolean holdsCaps(Descriptor type, Set<Descriptor> seen) {
        if (!seen.add(type)) {
            return false;
        }
        for (FieldDescriptor field : type.getFields()) {
            if (maxBytes.containsKey(field) || maxCount.containsKey(field)) {
                return true;
            }
            if (field.getType() == FieldDescriptor.Type.MESSAGE && holdsCaps(field.getMessageType(), seen)) {
                return true;
            }
        }
        return false;
    }

    /** The field's name as the other validation writes it: {@code prompts[0]}, {@code text}. */
    private static String path(String prefix, FieldDescriptor field, int index) {
        return prefix + field.getName() + (field.isRepeated() ? "[" + index + "]" : "");
    }

    private static void requirePositive(FieldDescriptor field, int cap) {
        if (cap <= 0) {
            throw new IllegalArgumentException("the cap on " + field.getFullName() + " must be positive but was: "
                    + cap);
        }
    }
}
