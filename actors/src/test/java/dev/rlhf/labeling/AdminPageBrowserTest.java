package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.Browser;
import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.ColorScheme;
import com.microsoft.playwright.options.WaitForSelectorState;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.JudgmentSubmission;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin page and the training dashboard in a real browser over a real store, server and run directory. */
class AdminPageBrowserTest {
    private static Chromium chromium;

    @TempDir
    Path dir;
    private Path runDir;
    private LabelingStack stack;
    private String adminToken;
    private final List<BrowserContext> contexts = new ArrayList<>();
    /** Console errors and failed scripts (a CSP violation by the charts would show here). */
    private final List<String> consoleErrors = new java.util.concurrent.CopyOnWriteArrayList<>();

    @BeforeAll
    static void launch() {
        chromium = new Chromium();
    }

    @AfterAll
    static void quit() {
        chromium.close();
    }

    /**
     * A run with ten iterations where people judge (human mode): 10 judgments arrive by iteration 4, where reward
     * model v2 starts training on them and takes over at 6; none arrive after. Two reward-model versions, a store where annotators p and q judged four
     * tasks: A/A, B/B, A/B, tie/tie. By hand, Krippendorff's alpha (nominal) over these: the coincidences are
     * o(A,A)=2, o(B,B)=2, o(T,T)=2, o(A,B)=o(B,A)=1, so n=8, n_A=3, n_B=3, n_T=2; D_o = 2/8; D_e = (64 - 9 - 9 - 4)
     * / (8 * 7) = 42/56; alpha = 1 - (2/8)/(42/56) = 2/3. Percent agreement: 3 of 4 pairs, 75 %.
     */
    @BeforeEach
    void start() throws Exception {
        runDir = Files.createDirectories(dir.resolve("run-7"));
        StringBuilder metrics = new StringBuilder();
        long[] total = {0, 48, 51, 55, 58, 58, 58, 58, 58, 58, 58};
        long[] pending = {0, 0, 3, 7, 0, 0, 0, 0, 0, 0, 0};
        for (int i = 1; i <= 10; i++) {
            metrics.append(String.format(Locale.ROOT, "{\"iteration\":%d,\"reward/rm_mean\":%.3f,\"reward/gold_mean\":%.3f,"
                    + "\"kl/to_reference\":%.3f,\"kl/coefficient\":0.05,\"ppo/entropy\":%.3f,\"ppo/policy_loss\":-0.02,"
                    + "\"ppo/value_loss\":%.3f,\"perf/tokens_per_s\":%d,\"time/iteration_s\":1.7,\"reward/rm_version\":%d,"
                    + "\"preferences/judgments_total\":%d,\"preferences/judgments_pending\":%d}\n",
                    i, 0.1 * i, 0.08 * i - 0.2, 0.02 * i, 1.0 - 0.03 * i, 0.3 - 0.02 * i, 8000 + 10 * i, i < 6 ? 1 : 2,
                    total[i], pending[i]));
        }
        Files.writeString(runDir.resolve("metrics.jsonl"), metrics);
        for (int v = 1; v <= 2; v++) {
            Path rm = Files.createDirectories(runDir.resolve("reward-models/v" + v));
            Files.writeString(rm.resolve("reward_model.json"), "{\"format\":1,\"version\":" + v
                    + ",\"metrics\":{\"held_out_accuracy\":" + (0.6 + 0.05 * v) + ",\"accuracy_against_gold\":"
                    + (0.55 + 0.05 * v) + "}}");
        }
        stack = new LabelingStack(dir, 2, Optional.of(runDir));
        adminToken = stack.annotator("root", true);
        Choice[][] labels = {{Choice.CHOICE_A, Choice.CHOICE_A}, {Choice.CHOICE_B, Choice.CHOICE_B},
            {Choice.CHOICE_A, Choice.CHOICE_B}, {Choice.CHOICE_TIE, Choice.CHOICE_TIE}};
        for (int i = 0; i < labels.length; i++) {
            String task = stack.task("g" + i, "Which greeting is friendlier? (" + i + ")", "Hello there, friend!",
                    "Go away.", 2);
            for (int k = 0; k < 2; k++) {
                String who = k == 0 ? "p" : "q";
                stack.store.nextTask(who).join();
                stack.store.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId(who + "-" + task)
                        .setTaskId(task).setAnnotatorId(who).setChoice(labels[i][k]).setCandidateA(0).setCandidateB(1)
                        .build()).join();
            }
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        contexts.forEach(BrowserContext::close);
        stack.close();
    }

    private Page admin(ColorScheme scheme) {
        BrowserContext context = chromium.browser.newContext(new Browser.NewContextOptions()
                .setViewportSize(1366, 768).setColorScheme(scheme));
        contexts.add(context);
        Page page = context.newPage();
        page.setDefaultTimeout(15_000);
        page.onConsoleMessage(m -> {
            if (m.type().equals("error")) {
                consoleErrors.add(m.text());
            }
        });
        page.onPageError(consoleErrors::add);
        page.navigate(stack.ui.url() + "admin");
        page.fill("#token", adminToken);
        page.press("#token", "Enter");
        page.waitForSelector("#admin-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        return page;
    }

    @Test
    void agreementEqualsTheHandComputedAlphaAndAnAdminAdjudicates() {
        Page page = admin(ColorScheme.LIGHT);
        page.waitForFunction("() => document.querySelector('#agreement dd') !== null");
        assertEquals("0.667", page.textContent("#agreement .figure:nth-child(1) dd"), "alpha = 2/3");
        assertEquals("75.0 %", page.textContent("#agreement .figure:nth-child(2) dd"));

        page.waitForSelector("#disagreements tbody tr");
        assertEquals(1, page.locator("#disagreements tbody tr").count(), "only the A/B task is a disagreement");
        page.click("#disagreements tbody tr button:has-text('Second better')");
        page.waitForFunction("() => document.getElementById('status').textContent.startsWith('Adjudicated')");
        assertEquals(Choice.CHOICE_B, stack.store.adjudication("g2").orElseThrow().getChoice());
    }

    @Test
    void anAdminAddsAnAnnotatorSeesTheTokenOnceAndRevokesWithConfirmation() {
        Page page = admin(ColorScheme.LIGHT);
        page.fill("#new-name", "newbie");
        page.press("#new-name", "Enter");
        page.waitForSelector("#new-token", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        String token = page.textContent("#new-token-value");
        assertEquals("newbie", stack.store.annotatorByToken(token).orElseThrow().getName(), "the token shown works");

        page.waitForSelector("button[aria-label='Revoke newbie']");
        page.click("button[aria-label='Revoke newbie']");
        assertTrue(stack.store.annotatorByToken(token).isPresent(), "one click only arms the button");
        page.click("button[aria-label='Revoke newbie']");
        page.waitForFunction("() => document.getElementById('status').textContent.startsWith('Revoked')");
        assertTrue(stack.store.annotators().stream().anyMatch(a -> a.getName().equals("newbie") && a.hasRevokedAt()));
    }

    @Test
    void theDashboardDrawsTheRunAndFollowsNewIterations() throws Exception {
        Page page = admin(ColorScheme.LIGHT);
        page.waitForFunction("() => (window.dashboardIterations || []).length === 10");
        assertEquals(8, page.locator(".chart canvas").count(), "one canvas per metric group, judgments included");
        page.waitForFunction("() => document.querySelector('#chart-rm .latest').textContent.startsWith('version 2')");
        Files.writeString(runDir.resolve("metrics.jsonl"), "{\"iteration\":11,\"reward/rm_mean\":1.2}\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        page.waitForFunction("() => (window.dashboardIterations || []).length === 11");
        assertTrue(page.textContent("#run-status").contains("iteration 11"), page.textContent("#run-status"));
        assertEquals(List.of(), consoleErrors);
    }

    @Test
    void theJudgmentsChartAndTheRewardModelLineFollowWhatPeopleJudge() throws Exception {
        Page page = admin(ColorScheme.LIGHT);
        page.waitForFunction("() => (window.dashboardIterations || []).length === 10");

        assertTrue(page.isVisible("#chart-judgments"), "a run where people judge has a Judgments chart");
        assertEquals("iteration 10: in the store 58, since the last training 0",
                page.textContent("#chart-judgments .latest"));
        assertEquals("Reward model v2 in use since iteration 6, unchanged: no new judgments since the last "
                + "reward-model training.", page.textContent("#rm-notice"));
        assertEquals("unchanged", page.getAttribute("#rm-notice", "data-state"));

        // judgments arrive again, then enough of them start a training of v3
        append("{\"iteration\":11,\"reward/rm_version\":2,\"preferences/judgments_total\":61,"
                + "\"preferences/judgments_pending\":3}");
        page.waitForFunction("() => document.getElementById('rm-notice').dataset.state === 'pending'");
        assertEquals("Reward model v2 in use since iteration 6; 3 new judgments since the last reward-model training.",
                page.textContent("#rm-notice"));
        append("{\"iteration\":12,\"reward/rm_version\":2,\"preferences/judgments_total\":67,"
                + "\"preferences/judgments_pending\":0}");
        page.waitForFunction("() => document.getElementById('rm-notice').dataset.state === 'training'");
        assertEquals("Reward model v2 in use since iteration 6; the next version started training at iteration 12 "
                + "on the judgments through #67.", page.textContent("#rm-notice"));
        assertEquals(List.of(), consoleErrors);
    }

    @Test
    void withSimulatedAnnotatorsThereIsNoJudgmentsChartNorRewardModelLine() throws Exception {
        Files.writeString(runDir.resolve("metrics.jsonl"), "{\"iteration\":0,\"reward/rm_mean\":0.1,"
                + "\"reward/rm_version\":1}\n{\"iteration\":1,\"reward/rm_mean\":0.2,\"reward/rm_version\":1}\n");

        Page page = admin(ColorScheme.LIGHT);
        page.waitForFunction("() => (window.dashboardIterations || []).length === 2");

        assertFalse(page.isVisible("#chart-judgments"), "no judgment counts, no Judgments chart");
        assertFalse(page.isVisible("#rm-notice"), "nothing to say about judgments");
        assertEquals(7, page.locator(".chart canvas").count());
    }

    private void append(String metricsLine) throws java.io.IOException {
        Files.writeString(runDir.resolve("metrics.jsonl"), metricsLine + "\n", StandardCharsets.UTF_8,
                StandardOpenOption.APPEND);
    }

    @Test
    void thePageHasNoSeriousAccessibilityViolationsInLightOrDark() throws Exception {
        for (ColorScheme scheme : new ColorScheme[] {ColorScheme.LIGHT, ColorScheme.DARK}) {
            Page page = admin(scheme);
            page.waitForFunction("() => (window.dashboardIterations || []).length === 10");
            page.waitForSelector("#disagreements tbody tr");
            page.waitForSelector("#annotators tbody tr");
            assertEquals(List.of(), Chromium.seriousViolations(page), "admin page, " + scheme);
            Chromium.screenshot(page, "admin-" + scheme.name().toLowerCase(Locale.ROOT));
        }
        // 200 % zoom on a 1366x768 laptop: wide tables scroll in their own box, the page never sideways
        BrowserContext zoomed = chromium.browser.newContext(new Browser.NewContextOptions()
                .setViewportSize(683, 384).setDeviceScaleFactor(2));
        contexts.add(zoomed);
        Page page = zoomed.newPage();
        page.navigate(stack.ui.url() + "admin");
        page.fill("#token", adminToken);
        page.press("#token", "Enter");
        page.waitForFunction("() => (window.dashboardIterations || []).length === 10");
        assertEquals(Boolean.TRUE, page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"),
                "the admin page fits the width at 200 % zoom");
    }
}
