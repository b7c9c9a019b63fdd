package dev.rlhf.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import org.junit.jupiter.api.Test;

class StoreBenchmarkTest {

    @Test
    void reportsDurableRatesForOneAndSixteenWritersAndReadsEveryJudgmentBack() {
        JsonObject json = JsonParser.parseString(StoreBenchmark.runJson(20, 64)).getAsJsonObject();

        JsonArray results = json.getAsJsonArray("results");
        assertEquals(1, results.get(0).getAsJsonObject().get("writers").getAsInt());
        assertEquals(16, results.get(1).getAsJsonObject().get("writers").getAsInt());
        assertTrue(results.get(1).getAsJsonObject().get("durable_per_s").getAsDouble() > 0, json.toString());
        assertEquals(84, json.get("read_back_judgments").getAsLong());
    }
}
