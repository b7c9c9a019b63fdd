package dev.rlhf.labeling;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.stream.JsonReader;
import java.io.StringReader;

/** JSON in and out of the HTTP API. */
final class Json {
    static final Gson GSON = new GsonBuilder().disableHtmlEscaping().serializeNulls().create();

    private Json() {
    }

    /** A request body that must be one JSON object; 400 otherwise. */
    static JsonObject parseObject(String body) {
        try {
            JsonReader reader = new JsonReader(new StringReader(body));
            reader.setStrictness(com.google.gson.Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(reader);
            if (reader.peek() != com.google.gson.stream.JsonToken.END_DOCUMENT) {
                throw ApiError.badRequest("the request body holds more than one JSON value", null);
            }
            if (!e.isJsonObject()) {
                throw ApiError.badRequest("the request body must be a JSON object", null);
            }
            return e.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException | java.io.IOException e) {
            throw ApiError.badRequest("the request body is not valid JSON", null);
        }
    }

    /** A number, or null where JSON has no number (NaN, infinities). */
    static JsonElement finite(double v) {
        return Double.isFinite(v) ? new JsonPrimitive(v) : JsonNull.INSTANCE;
    }

    /** The error body {@code {"error": message, "field": field}}. */
    static String error(String message, String field) {
        JsonObject o = new JsonObject();
        o.addProperty("error", message);
        if (field != null) {
            o.addProperty("field", field);
        }
        return GSON.toJson(o);
    }
}
