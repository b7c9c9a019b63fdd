package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.rlhf.proto.v1.Choice;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class RequestsTest {
    private static final String ID = "0b0c6f1e-5a8e-4c2e-9d7a-3f1f6a0c2b11";

    private static ApiError rejected(String json) {
        return assertThrows(ApiError.class, () -> Requests.submit(Json.parseObject(json), 10));
    }

    @Test
    void aWellFormedJudgmentIsRead() {
        Requests.Submit s = Requests.submit(Json.parseObject("{\"judgmentId\":\"" + ID
                + "\",\"taskId\":\"t1\",\"choice\":\"both_bad\",\"strength\":2,\"rationale\":\" both wrong \"}"), 100);
        assertEquals(new Requests.Submit(ID, "t1", Choice.CHOICE_BOTH_BAD, OptionalInt.of(2), Optional.of("both wrong")), s);
    }

    @Test
    void eachBadFieldIsNamed() {
        assertEquals("choice", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"t\",\"choice\":\"c\"}").field().orElseThrow());
        assertEquals("strength", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"t\",\"choice\":\"a\",\"strength\":4}").field().orElseThrow());
        assertEquals("strength", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"t\",\"choice\":\"a\",\"strength\":1.5}").field().orElseThrow());
        assertEquals("strength", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"t\",\"choice\":\"skip\",\"strength\":1}").field().orElseThrow());
        assertEquals("rationale", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"t\",\"choice\":\"a\",\"rationale\":\"ééééééé\"}").field().orElseThrow(),
                "14 UTF-8 bytes is over the limit of 10");
        assertEquals("judgmentId", rejected("{\"judgmentId\":\"x\",\"taskId\":\"t\",\"choice\":\"a\"}").field().orElseThrow());
        assertEquals("taskId", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"\",\"choice\":\"a\"}").field().orElseThrow());
        assertEquals("taskId", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":7,\"choice\":\"a\"}").field().orElseThrow());
        assertEquals("taskId", rejected("{\"judgmentId\":\"" + ID + "\",\"taskId\":\"" + "x".repeat(129) + "\",\"choice\":\"a\"}").field().orElseThrow());
        assertEquals(400, rejected("{\"judgmentId\":\"" + ID + "\"}").status());
    }

    @Test
    void malformedJsonIsA400() {
        for (String body : new String[] {"", "{", "[1]", "\"s\"", "{\"a\":1}}", "{'a':1}"}) {
            ApiError e = assertThrows(ApiError.class, () -> Json.parseObject(body), body);
            assertEquals(400, e.status(), body);
        }
    }

    @Test
    void sinceIsAnIsoInstant() {
        assertEquals(Instant.parse("2026-01-31T23:00:00Z"), Requests.since(Optional.of("2026-01-31T23:00:00Z")));
        assertEquals("since", assertThrows(ApiError.class, () -> Requests.since(Optional.of("yesterday"))).field().orElseThrow());
        assertEquals("since", assertThrows(ApiError.class, () -> Requests.since(Optional.empty())).field().orElseThrow());
    }

    @Test
    void adjudicationRefusesSkip() {
        assertEquals("choice", assertThrows(ApiError.class, () -> Requests.verdict(
                Json.parseObject("{\"taskId\":\"t\",\"choice\":\"skip\"}"), 100)).field().orElseThrow());
        assertEquals(Choice.CHOICE_TIE, Requests.verdict(Json.parseObject("{\"taskId\":\"t\",\"choice\":\"tie\"}"), 100).choice());
    }
}
