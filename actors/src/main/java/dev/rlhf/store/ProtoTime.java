package dev.rlhf.store;

import com.google.protobuf.Timestamp;
import java.time.Instant;

/** Between protobuf's {@link Timestamp}, which the records carry, and {@link Instant}, which the code compares. */
public final class ProtoTime {

    private ProtoTime() {}

    public static Instant instant(Timestamp timestamp) {
        return Instant.ofEpochSecond(timestamp.getSeconds(), timestamp.getNanos());
    }

    public static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }
}
