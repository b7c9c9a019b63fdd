package dev.rlhf.serve;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Makes a service answer {@code INVALID_ARGUMENT}, naming the field, to a request that protobuf cannot parse,
 * such as a {@code string} field holding invalid UTF-8, and to one that breaks the service's {@link FieldCaps}.
 *
 * <p>Protobuf refuses such a request while parsing, before any service code runs, and gRPC then closes the call
 * with {@code UNKNOWN}. So the wrapped service receives its requests as bytes, parses them itself, and on failure
 * walks the bytes field by field against the message's descriptor to find the offending one. The {@code .proto}
 * keeps {@code string} for text, so clients (and grpcurl's JSON) keep sending plain strings. Having the bytes, it
 * checks the caps first: parsing decodes every string, so text over its cap is refused before that work.
 */
final class Utf8Validation {
    private Utf8Validation() {}

    /**
     * {@code definition} with every method parsing its own requests as described above, after checking
     * {@code caps} on their bytes.
     */
    static ServerServiceDefinition rejectingUnparsableRequests(ServerServiceDefinition definition, FieldCaps caps) {
        ServiceDescriptor original = definition.getServiceDescriptor();
        List<ServerMethodDefinition<?, ?>> methods = definition.getMethods().stream()
                .<ServerMethodDefinition<?, ?>>map(m -> wrap(m, caps)).toList();
        ServiceDescriptor.Builder descriptor =
                ServiceDescriptor.newBuilder(original.getName()).setSchemaDescriptor(original.getSchemaDescriptor());
        methods.forEach(m -> descriptor.addMethod(m.getMethodDescriptor()));
        ServerServiceDefinition.Builder builder = ServerServiceDefinition.builder(descriptor.build());
        methods.forEach(builder::addMethod);
        return builder.build();
    }

    private static <Q, R> ServerMethodDefinition<InputStream, R> wrap(ServerMethodDefinition<Q, R> definition,
            FieldCaps caps) {
        MethodDescriptor<Q, R> method = definition.getMethodDescriptor();
        MethodDescriptor<InputStream, R> raw =
                method.toBuilder(RawBytes.INSTANCE, method.getResponseMarshaller()).build();
        ServerCallHandler<Q, R> handler = definition.getServerCallHandler();
        Optional<Descriptor> type = requestType(method);
        return ServerMethodDefinition.create(raw, (call, headers) -> {
            ServerCall.Listener<Q> typed = handler.startCall(new TypedCall<>(call, method), headers);
            return new ParsingListener<>(call, method, type, caps, typed);
        });
    }

    /** The descriptor of the method's request message, when its requests are protobuf messages. */
    private static Optional<Descriptor> requestType(MethodDescriptor<?, ?> method) {
        if (method.getRequestMarshaller() instanceof MethodDescriptor.PrototypeMarshaller<?> marshaller
                && marshaller.getMessagePrototype() instanceof Message prototype) {
            return Optional.of(prototype.getDescriptorForType());
        }
        return Optional.empty();
    }

    /**
     * The path of the first {@code string} field in {@code bytes} that is not valid UTF-8, such as
     * {@code prompts[0].text}; empty when there is none.
     */
    static Optional<String> invalidUtf8Field(Descriptor type, ByteString bytes) {
        UnknownFieldSet fields;
        try {
            fields = UnknownFieldSet.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
        for (Map.Entry<Integer, UnknownFieldSet.Field> entry : fields.asMap().entrySet()) {
            FieldDescriptor field = type.findFieldByNumber(entry.getKey());
            if (field == null) {
                continue;
            }
            List<ByteString> values = entry.getValue().getLengthDelimitedList();
            for (int i = 0; i < values.size(); i++) {
                String path = field.isRepeated() ? field.getName() + "[" + i + "]" : field.getName();
                if (field.getType() == FieldDescriptor.Type.STRING && !values.get(i).isValidUtf8()) {
                    return Optional.of(path);
                }
                if (field.getType() == FieldDescriptor.Type.MESSAGE) {
                    Optional<String> inner = invalidUtf8Field(field.getMessageType(), values.get(i));
                    if (inner.isPresent()) {
                        return Optional.of(path + "." + inner.get());
                    }
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Parses each request itself; one over a cap or unparsable closes the call with {@code INVALID_ARGUMENT}.
     */
    private static final class ParsingListener<Q, R> extends ServerCall.Listener<InputStream> {
        private final ServerCall<InputStream, R> call;
        private final MethodDescriptor<Q, R> method;
        private final Optional<Descriptor> type;
        private final FieldCaps caps;
        private final ServerCall.Listener<Q> delegate;
        private boolean rejected;

        ParsingListener(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method, Optional<Descriptor> type,
                FieldCaps caps, ServerCall.Listener<Q> delegate) {
            this.call = call;
            this.method = method;
            this.type = type;
            this.caps = caps;
            this.delegate = delegate;
        }

        @Override
        public void onMessage(InputStream message) {
            byte[] bytes;
            try (message) {
                bytes = message.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Optional<String> overCap = type.flatMap(t -> caps.violation(t, bytes));
            if (overCap.isPresent()) {
                reject(Status.INVALID_ARGUMENT.withDescription(overCap.get()));
                return;
            }
            Q request;
            try {
                request = method.parseRequest(new ByteArrayInputStream(bytes));
            } catch (RuntimeException e) {
                reject(describe(bytes));
                return;
            }
            delegate.onMessage(request);
        }

        private void reject(Status status) {
            rejected = true;
            call.close(status, new Metadata());
        }

        private Status describe(byte[] bytes) {
            if (type.isEmpty()) {
                return Status.INVALID_ARGUMENT.withDescription("the request cannot be parsed");
            }
            Optional<String> field = invalidUtf8Field(type.get(), ByteString.copyFrom(bytes));
            if (field.isPresent()) {
                return Status.INVALID_ARGUMENT.withDescription(field.get() + " must be valid UTF-8");
            }
            return Status.INVALID_ARGUMENT.withDescription("the request is not a valid " + type.get().getFullName());
        }

        @Override
        public void onHalfClose() {
            if (!rejected) {
                delegate.onHalfClose();
            }
        }

        @Override
        public void onCancel() {
            delegate.onCancel();
        }

        @Override
        public void onComplete() {
            delegate.onComplete();
        }

        @Override
        public void onReady() {
            delegate.onReady();
        }
    }

    /** The raw call as the typed service sees it: only its method descriptor differs. */
    private static final class TypedCall<Q, R> extends ForwardingServerCall.SimpleForwardingServerCall<Q, R> {
        private final MethodDescriptor<Q, R> method;

        @SuppressWarnings("unchecked")
        TypedCall(ServerCall<InputStream, R> call, MethodDescriptor<Q, R> method) {
            // the request type appears only in getMethodDescriptor(), overridden below
            super((ServerCall<Q, R>) (ServerCall<?, R>) call);
            this.method = method;
        }

        @Override
        public MethodDescriptor<Q, R> getMethodDescriptor() {
            return method;
        }
    }

    /** Passes request bytes through unparsed. */
    private enum RawBytes implements MethodDescriptor.Marshaller<InputStream> {
        INSTANCE;

        @Override
        public InputStream stream(InputStream value) {
            return value;
        }

        @Override
        public InputStream parse(InputStream stream) {
            return stream;
        }
    }
}
