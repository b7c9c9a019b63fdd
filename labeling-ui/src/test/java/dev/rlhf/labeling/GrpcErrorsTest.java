package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

class GrpcErrorsTest {

    @Test
    void statusCodesMapToTheirHttpStatus() {
        Map<Status.Code, Integer> expected = Map.of(
                Status.Code.INVALID_ARGUMENT, 400,
                Status.Code.UNAUTHENTICATED, 401,
                Status.Code.PERMISSION_DENIED, 403,
                Status.Code.NOT_FOUND, 404,
                Status.Code.ALREADY_EXISTS, 409,
                Status.Code.FAILED_PRECONDITION, 409,
                Status.Code.RESOURCE_EXHAUSTED, 429,
                Status.Code.UNAVAILABLE, 503);
        expected.forEach((code, http) -> assertEquals(http, GrpcErrors.httpStatus(code), code.name()));
        for (Status.Code code : Status.Code.values()) {
            assertNotEquals(500, GrpcErrors.httpStatus(code), code + " must never answer 500");
        }
    }

    @Test
    void unavailableAndBusyTellTheClientWhenToRetry() {
        ApiError e = GrpcErrors.fromThrowable(new CompletionException(Status.UNAVAILABLE.asRuntimeException()));
        assertEquals(503, e.status());
        assertTrue(e.retryAfter().isPresent());
        assertTrue(GrpcErrors.fromStatus(Status.RESOURCE_EXHAUSTED).retryAfter().isPresent());
        assertTrue(GrpcErrors.fromStatus(Status.NOT_FOUND).retryAfter().isEmpty());
    }

    @Test
    void theStoresDescriptionNamesTheProblem() {
        ApiError e = GrpcErrors.fromStatus(Status.INVALID_ARGUMENT.withDescription("strength must be 1..3"));
        assertEquals(400, e.status());
        assertEquals("strength must be 1..3", e.getMessage());
        assertNull(GrpcErrors.fromThrowable(new IllegalStateException("not grpc")));
    }
}
