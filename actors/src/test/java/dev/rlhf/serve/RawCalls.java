package dev.rlhf.serve;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.stub.ClientCalls;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Requests as bytes no generated builder would produce, such as string fields holding invalid UTF-8. */
final class RawCalls {
    static final byte[] INVALID_UTF8 = {'o', 'k', (byte) 0xC3, (byte) 0x28};

    private RawCalls() {}

    /** A message holding {@code value} as length-delimited field {@code number}, built without a schema. */
    static ByteString field(int number, ByteString value) {
        return UnknownFieldSet.newBuilder()
                .addField(number, UnknownFieldSet.Field.newBuilder().addLengthDelimited(value).build())
                .build().toByteString();
    }

    /** Calls {@code method} with {@code request} as its request bytes. */
    static <R> R call(Channel channel, MethodDescriptor<?, R> method, ByteString request) {
        MethodDescriptor<ByteString, R> raw = method.toBuilder(new MethodDescriptor.Marshaller<ByteString>() {
            @Override
            public InputStream stream(ByteString value) {
                return new ByteArrayInputStream(value.toByteArray());
            }

            @Override
            public ByteString parse(InputStream stream) {
                try {
                    return ByteString.readFrom(stream);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }, method.getResponseMarshaller()).build();
        return ClientCalls.blockingUnaryCall(channel, raw, CallOptions.DEFAULT, request);
    }
}
