package dev.rlhf.labeling;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server-sent events of one dashboard connection. The first poll says whether there is a run
 * ({@code event: run}); then each poll returns a {@code metrics} event per new line of {@code metrics.jsonl}
 * (from its start), a {@code reset} event when the file was rewritten (a resumed run), a {@code reward_models}
 * event when the reward-model versions changed, and a comment now and then so proxies keep the stream open.
 */
final class DashboardEvents {
    private static final Logger log = LoggerFactory.getLogger(DashboardEvents.class);
    /** Silence longer than this gets a comment, well within the server's 60 s idle timeout. */
    private static final java.time.Duration KEEPALIVE = java.time.Duration.ofSeconds(15);
    /** How a lenient reader hands back the bare words NaN and Infinity a Python or Java writer may print. */
    private static final java.util.Set<String> NON_FINITE = java.util.Set.of("NaN", "Infinity", "-Infinity");

    private final Optional<Path> runDir;
    private final MetricsFollower follower;
    private boolean started;
    private String lastRewardModels = "";
    private int quietPolls;
    private final int keepalivePolls;

    /** Events of {@code runDir}, polled every {@code pollInterval}. */
    DashboardEvents(Optional<Path> runDir, java.time.Duration pollInterval) {
        this.runDir = runDir;
        this.keepalivePolls = (int) Math.max(1, KEEPALIVE.toMillis() / Math.max(1, pollInterval.toMillis()));
        this.follower = runDir.map(d -> new MetricsFollower(d.resolve("metrics.jsonl"))).orElse(null);
    }

    /** The events since the last poll, each a complete SSE frame. */
    List<String> poll() {
        List<String> frames = new ArrayList<>();
        if (!started) {
            started = true;
            JsonObject run = new JsonObject();
            run.addProperty("run", runDir.isPresent());
            runDir.ifPresent(d -> run.addProperty("name", String.valueOf(d.toAbsolutePath().normalize().getFileName())));
            frames.add("retry: 3000\n\n");
            frames.add(frame("run", Json.GSON.toJson(run)));
        }
        if (runDir.isPresent()) {
            try {
                MetricsFollower.Poll poll = follower.poll();
                if (poll.restarted()) {
                    frames.add(frame("reset", "{}"));
                }
                for (String line : poll.lines()) {
                    try {
                        JsonElement e = JsonParser.parseString(line);
                        if (e.isJsonObject()) {
                            frames.add(frame("metrics", Json.GSON.toJson(finiteOnly(e.getAsJsonObject()))));
                        }
                    } catch (JsonParseException ex) {
                        log.debug("skipping a malformed line of {}/metrics.jsonl", runDir.get());
                    }
                }
            } catch (IOException e) {
                log.debug("cannot read {}/metrics.jsonl: {}", runDir.get(), e.toString());
            }
            String models = Json.GSON.toJson(RewardModelAccuracy.toJson(RewardModelAccuracy.read(runDir.get())));
            if (!models.equals(lastRewardModels)) {
                lastRewardModels = models;
                frames.add(frame("reward_models", models));
            }
        }
        if (frames.isEmpty() && ++quietPolls >= keepalivePolls) {
            quietPolls = 0;
            frames.add(": keepalive\n\n");
        } else if (!frames.isEmpty()) {
            quietPolls = 0;
        }
        return frames;
    }

    /** The object with NaN and infinite numbers as null, which JSON has no words for. */
    private static JsonObject finiteOnly(JsonObject o) {
        JsonObject out = new JsonObject();
        for (var entry : o.entrySet()) {
            JsonElement v = entry.getValue();
            boolean nonFinite = v.isJsonPrimitive() && (v.getAsJsonPrimitive().isNumber()
                    ? !Double.isFinite(v.getAsDouble())
                    : v.getAsJsonPrimitive().isString() && NON_FINITE.contains(v.getAsString()));
            if (nonFinite) {
                out.add(entry.getKey(), com.google.gson.JsonNull.INSTANCE);
            } else {
                out.add(entry.getKey(), v);
            }
        }
        return out;
    }

    private static String frame(String event, String compactJson) {
        return "event: " + event + "\ndata: " + compactJson + "\n\n";
    }
}
