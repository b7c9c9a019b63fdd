package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Locator;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.Response;
import com.microsoft.playwright.options.ColorScheme;
import com.microsoft.playwright.options.WaitForSelectorState;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.actors.ExperimentCoordinator;
import dev.rlhf.labeling.Chromium;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.run.ExperimentHandle;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.TinyExperiments;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code rlhf quickstart --human} promises, end to end: a tiny experiment in human mode, the labeling UI served
 * beside it by {@link HumanLabeling}, and a person in headless chromium who labels with the keyboard the tasks the
 * run sends; their judgments train the run's next reward-model version, and the admin dashboard shows them.
 */
class HumanLabelingEndToEndTest {
    /** Small, so that a few judgments in the browser start a training while the run goes. */
    private static final int RETRAIN_AFTER = 2;
    /**
     * Far more than the run needs (a tiny iteration takes a fraction of a second, a person in a browser longer): it
     * is stopped once the person's version takes over.
     */
    private static final int ITERATIONS = 120;
    private static final Duration LABELING_DEADLINE = Duration.ofMinutes(3);

    @TempDir
    static Path shared;

    private static Path sft;
    private static Chromium chromium;

    @BeforeAll
    static void bootstrap() throws Exception {
        sft = TinyExperiments.bootstrapPolicy(shared.resolve("sft"));
        chromium = new Chromium();
    }

    @AfterAll
    static void quit() {
        if (chromium != null) {
            chromium.close();
        }
    }

    @Test
    void aJudgmentGivenInTheBrowserReachesTheNextRewardModelOfTheRunningExperiment(@TempDir Path dir)
            throws Exception {
        // setup: the run, and the UI beside it as quickstart --human serves it
        Path run = dir.resolve("run");
        List<RewardModelInfo> versions = new CopyOnWriteArrayList<>();
        ExperimentHandle handle = new ExperimentRunner(humanConfig(run), sft, TinyExperiments.quiet())
                .start(false, event -> {
                    if (event instanceof ExperimentCoordinator.RewardModelTrained trained) {
                        versions.add(trained.info());
                    }
                });
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        List<BrowserContext> contexts = new ArrayList<>();
        Set<Long> personsSequences = new TreeSet<>();
        ExperimentRunner.Outcome outcome;
        String dashboardJudgments;
        String notice;
        List<JsonObject> metrics;
        try (AutoCloseable ui = HumanLabeling.serve(handle, humanConfig(run), run,
                new PrintStream(printed, true, StandardCharsets.UTF_8))) {
            Page admin;
            try {
                String console = printed.toString(StandardCharsets.UTF_8);
                String url = printedValue(console, "labeling ui listening on ");
                String annotatorToken = printedValue(console, "annotator token: ");
                String adminToken = printedValue(console, "admin token: ");

                // the admin signs in while the run's store is open (sign-in asks it) and watches the dashboard
                admin = signIn(contexts, url + "admin", adminToken);
                admin.waitForSelector("#admin-view", visible());

                // run: the person labels every task that arrives until a version trained on their judgments is used
                Page annotator = signIn(contexts, url, annotatorToken);
                Instant deadline = Instant.now().plus(LABELING_DEADLINE);
                while (versions.stream().noneMatch(v -> v.version() >= 2) && !handle.outcome().isDone()) {
                    if (Instant.now().isAfter(deadline)) {
                        fail("no reward-model version took over within " + LABELING_DEADLINE + "; the person judged #"
                                + personsSequences + ", versions " + versions);
                    }
                    if (!readyForAJudgment(annotator)) {
                        annotator.waitForTimeout(50);
                        continue;
                    }
                    Response submitted = annotator.waitForResponse(
                            r -> r.url().endsWith("/api/judgments") && r.request().method().equals("POST"), () -> {
                                annotator.keyboard().press("1");
                                annotator.keyboard().press("Enter");
                            });
                    if (submitted.status() == 200) {
                        personsSequences.add(JsonParser.parseString(submitted.text()).getAsJsonObject()
                                .get("sequence").getAsLong());
                    }
                }
            } finally {
                handle.stop();
                outcome = handle.await();
            }

            // the dashboard, still following the finished run's directory, shows the person's judgments
            metrics = TinyExperiments.deterministicMetrics(run);
            admin.waitForFunction("n => (window.dashboardIterations || []).length === n", metrics.size());
            admin.waitForSelector("#chart-judgments", visible());
            dashboardJudgments = admin.textContent("#chart-judgments .latest");
            notice = admin.textContent("#rm-notice");
            Files.createDirectories(Chromium.SCREENSHOTS);
            admin.locator("section[aria-labelledby='dashboard-title']").screenshot(new Locator.ScreenshotOptions()
                    .setPath(Chromium.SCREENSHOTS.resolve("dashboard-human-run-light.png")));
        } finally {
            contexts.forEach(BrowserContext::close);
        }

        // verify: v2 trained on the person's judgments, which the store holds as theirs, and the metrics count them
        assertTrue(outcome.summary().isPresent() || outcome.stoppedAt().isPresent(), "the run ended: " + outcome);
        RewardModelInfo second = versions.stream().filter(v -> v.version() == 2).findFirst()
                .orElseThrow(() -> new AssertionError("v2 never took over; versions " + versions));
        Path v2 = RewardModelCheckpoint.versionDirectory(run.resolve(ExperimentRunner.REWARD_MODELS_DIR), 2);
        assertTrue(Files.isDirectory(v2), v2 + " exists");
        assertEquals(second.trainedThroughSequence(), RewardModelInfo.read(v2).trainedThroughSequence());
        assertFalse(personsSequences.isEmpty(), "the person judged in the browser");
        Set<Long> personsInV2 = personsSequences.stream().filter(s -> s <= second.trainedThroughSequence())
                .collect(Collectors.toCollection(TreeSet::new));
        assertTrue(personsInV2.size() >= RETRAIN_AFTER, "v2 trained through #" + second.trainedThroughSequence()
                + ", which takes in at least " + RETRAIN_AFTER + " of the person's judgments #" + personsSequences);
        try (PreferenceStore store = PreferenceStore.open(PreferenceStoreSettings.fromConfig(ConfigFactory.load())
                .withPath(run.resolve("preferences")))) {
            Map<Long, Judgment> trainedOn = store.judgmentsSince(0, 100_000).stream()
                    .filter(j -> j.getSequence() <= second.trainedThroughSequence())
                    .collect(Collectors.toMap(Judgment::getSequence, j -> j));
            for (long s : personsInV2) {
                Judgment j = trainedOn.get(s);
                assertTrue(j != null && j.getSubmission().getAnnotatorId().equals(HumanLabeling.FIRST_ANNOTATOR),
                        "judgment #" + s + " is the person's, among those v2 trained on: " + j);
            }
        }
        JsonObject last = metrics.get(metrics.size() - 1);
        long total = last.get("preferences/judgments_total").getAsLong();
        long pending = last.get("preferences/judgments_pending").getAsLong();
        assertTrue(total >= second.trainedThroughSequence(), "the last iteration counts the person's judgments: "
                + last);
        assertEquals(String.format(Locale.ROOT, "iteration %d: in the store %d, since the last training %d",
                last.get("iteration").getAsInt(), total, pending), dashboardJudgments);
        assertTrue(notice.startsWith("Reward model v" + last.get("reward/rm_version").getAsInt() + " in use since "
                + "iteration "), "the dashboard's line names the version of the last iteration: " + notice);
    }

    // --- helpers --------------------------------------------------------------------------------------------------

    private static Config humanConfig(Path run) {
        Map<String, Object> keys = new HashMap<>(TinyExperiments.keys(run, ITERATIONS));
        keys.put("rlhf.annotators.mode", "human");
        keys.put("rlhf.experiment.iterated.retrain-after", RETRAIN_AFTER);
        keys.put("rlhf.labeling-ui.port", 0);
        keys.put("rlhf.labeling-ui.new-task-poll-interval", "100ms");
        keys.put("rlhf.labeling-ui.metrics-poll-interval", "100ms");
        return ConfigFactory.parseMap(keys).withFallback(ConfigFactory.load());
    }

    /** The rest of the line {@link HumanLabeling#serve} printed after {@code prefix}. */
    private static String printedValue(String console, String prefix) {
        Matcher m = Pattern.compile("^" + Pattern.quote(prefix) + "(\\S+)$", Pattern.MULTILINE).matcher(console);
        if (!m.find()) {
            throw new AssertionError("no line '" + prefix + "...' in what HumanLabeling printed:\n" + console);
        }
        return m.group(1);
    }

    /** Opens {@code url} in a fresh light context and signs in by typing the token and pressing Enter. */
    private static Page signIn(List<BrowserContext> contexts, String url, String token) {
        BrowserContext context = chromium.browser.newContext(new Browser.NewContextOptions()
                .setViewportSize(1366, 768).setColorScheme(ColorScheme.LIGHT));
        contexts.add(context);
        Page page = context.newPage();
        page.setDefaultTimeout(15_000);
        page.navigate(url);
        page.waitForSelector("#token");
        page.focus("#token");
        page.keyboard().type(token);
        page.keyboard().press("Enter");
        return page;
    }

    /** A task is shown, nothing is chosen on it yet, and no submission is in flight. */
    private static boolean readyForAJudgment(Page page) {
        return Boolean.TRUE.equals(page.evaluate("() => !document.getElementById('task-view').hidden"
                + " && document.querySelector('input[name=\"choice\"]:checked') === null"
                + " && !document.getElementById('submit').disabled"));
    }

    private static Page.WaitForSelectorOptions visible() {
        return new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE);
    }
}
