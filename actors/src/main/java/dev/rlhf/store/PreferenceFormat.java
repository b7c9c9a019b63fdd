package dev.rlhf.store;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** The JSONL preference formats the store exchanges, one JSON object per line. */
public enum PreferenceFormat {

    /** TRL's explicit-prompt preference format: {@code {"prompt": p, "chosen": c, "rejected": r}}. */
    TRL {
        @Override
        JsonObject toJson(PreferencePair pair) {
            JsonObject json = new JsonObject();
            json.addProperty("prompt", pair.prompt());
            json.addProperty("chosen", pair.chosen());
            json.addProperty("rejected", pair.rejected());
            return json;
        }

        @Override
        PreferencePair fromJson(JsonObject json) {
            return new PreferencePair(string(json, "prompt"), string(json, "chosen"), string(json, "rejected"));
        }
    },

    /**
     * Anthropic HH-RLHF: {@code {"chosen": t, "rejected": t}}, each a full transcript
     * {@code "\n\nHuman: ...\n\nAssistant: ..."} ending in the response. The prompt is the common
     * transcript before the last shared {@code "\n\nAssistant:"}; a single-turn prompt is stored
     * without its {@code "\n\nHuman: "} marker, a multi-turn one as the whole transcript.
     */
    HH_RLHF {
        @Override
        JsonObject toJson(PreferencePair pair) {
            String transcript = pair.prompt().startsWith(HUMAN) ? pair.prompt() : HUMAN_TURN + pair.prompt();
            JsonObject json = new JsonObject();
            json.addProperty("chosen", transcript + ASSISTANT_TURN + pair.chosen());
            json.addProperty("rejected", transcript + ASSISTANT_TURN + pair.rejected());
            return json;
        }

        @Override
        PreferencePair fromJson(JsonObject json) {
            String chosen = string(json, "chosen");
            String rejected = string(json, "rejected");
            int common = 0;
            while (common < Math.min(chosen.length(), rejected.length())
                    && chosen.charAt(common) == rejected.charAt(common)) {
                common++;
            }
            int split = chosen.lastIndexOf(ASSISTANT, common - ASSISTANT.length());
            if (split < 0) {
                throw new IllegalArgumentException(
                        "\"chosen\" and \"rejected\" share no \"\\n\\nAssistant:\" turn to split the prompt at");
            }
            String transcript = chosen.substring(0, split);
            String singleTurn = transcript.startsWith(HUMAN_TURN) ? transcript.substring(HUMAN_TURN.length()) : null;
            String prompt = singleTurn != null && !singleTurn.contains(HUMAN) && !singleTurn.contains(ASSISTANT)
                    ? singleTurn
                    : transcript;
            return new PreferencePair(prompt, response(chosen, split), response(rejected, split));
        }

        private static String response(String transcript, int split) {
            String rest = transcript.substring(split + ASSISTANT.length());
            return rest.startsWith(" ") ? rest.substring(1) : rest;
        }
    };

    private static final String HUMAN = "\n\nHuman:";
    private static final String HUMAN_TURN = HUMAN + " ";
    /** What opens an assistant turn of an HH-RLHF transcript, the response following after a space. */
    public static final String ASSISTANT = "\n\nAssistant:";
    private static final String ASSISTANT_TURN = ASSISTANT + " ";

    /** The JSON object of one line. */
    abstract JsonObject toJson(PreferencePair pair);

    /**
     * The pair one line carries.
     *
     * @throws IllegalArgumentException naming the missing or malformed field
     */
    abstract PreferencePair fromJson(JsonObject json);

    private static String string(JsonObject json, String field) {
        JsonElement value = json.get(field);
        if (value == null || !value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("field \"" + field + "\" must be a string");
        }
        return value.getAsString();
    }
}
