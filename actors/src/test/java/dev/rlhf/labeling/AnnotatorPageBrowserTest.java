package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.microsoft.playwright.BrowserContext;
import com.microsoft.playwright.Browser;
import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.ColorScheme;
import com.microsoft.playwright.options.WaitForSelectorState;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The annotator page in a real browser over a real store and PreferenceServer. */
class AnnotatorPageBrowserTest {
    private static Chromium chromium;

    @TempDir
    Path dir;
    private LabelingStack stack;
    private final List<BrowserContext> contexts = new ArrayList<>();

    @BeforeAll
    static void launch() {
        chromium = new Chromium();
    }

    @AfterAll
    static void quit() {
        chromium.close();
    }

    @AfterEach
    void stop() throws InterruptedException {
        contexts.forEach(BrowserContext::close);
        if (stack != null) {
            stack.close();
        }
    }

    /** Console errors and failed page scripts (a CSP violation shows here), across the test's pages. */
    private final List<String> consoleErrors = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Page page(ColorScheme scheme) {
        BrowserContext context = chromium.browser.newContext(new Browser.NewContextOptions()
                .setViewportSize(1366, 768).setColorScheme(scheme));
        contexts.add(context);
        Page page = context.newPage();
        page.setDefaultTimeout(15_000);
        page.onConsoleMessage(m -> {
            if (m.type().equals("error") && !m.text().contains("401")) {
                consoleErrors.add(m.text());
            }
        });
        page.onPageError(consoleErrors::add);
        return page;
    }

    /** Opens the page and signs in by typing the token and pressing Enter. */
    private Page signIn(String token, ColorScheme scheme) {
        Page page = page(scheme);
        page.navigate(stack.ui.url());
        page.waitForSelector("#token");
        page.focus("#token");
        page.keyboard().type(token);
        page.keyboard().press("Enter");
        return page;
    }

    private static String shownPrompt(Page page) {
        page.waitForSelector("#task-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        return page.textContent("#prompt");
    }

    /** Waits until the page shows a task whose prompt differs from {@code previous}; returns its prompt. */
    private static String nextPrompt(Page page, String previous) {
        page.waitForFunction("prev => { const v = document.getElementById('task-view');"
                + " return !v.hidden && document.getElementById('prompt').textContent !== prev; }", previous);
        return page.textContent("#prompt");
    }

    @Test
    void anAnnotatorLabelsThreePairsWithTheKeyboardAndUndoesOne() throws Exception {
        stack = new LabelingStack(dir, 1, Optional.empty());
        String token = stack.annotator("kay", false);
        for (int i = 1; i <= 3; i++) {
            stack.task("t" + i, "Prompt " + i, "first of " + i, "second of " + i, 1);
        }

        Page page = signIn(token, ColorScheme.LIGHT);
        Map<String, Choice> expected = new HashMap<>();
        String[] keys = {"1", "2", "3"};
        String prompt = shownPrompt(page);
        String sideA = page.textContent("#response-a");
        page.reload();
        assertEquals(prompt, shownPrompt(page), "a reload keeps the session and the task");
        assertEquals(sideA, page.textContent("#response-a"), "a reload shows the same sides");
        String lastTask = null;
        for (int i = 0; i < 3; i++) {
            String task = "t" + prompt.substring("Prompt ".length());
            boolean firstShownAsA = page.textContent("#response-a").startsWith("first");
            page.keyboard().press(keys[i]);
            page.keyboard().press("Enter");
            Choice screen = List.of(Choice.CHOICE_A, Choice.CHOICE_B, Choice.CHOICE_TIE).get(i);
            expected.put(task, firstShownAsA ? screen : new ScreenSides(true).toTrue(screen));
            lastTask = task;
            if (i < 2) {
                prompt = nextPrompt(page, prompt);
            }
        }
        page.waitForSelector("#empty-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        page.waitForFunction("() => document.getElementById('status').textContent.startsWith('Submitted')");

        // u takes the last one back: its task returns, and is judged again as both bad
        page.keyboard().press("u");
        String back = shownPrompt(page);
        assertEquals("Prompt " + lastTask.substring(1), back, "undo hands the same task back");
        page.waitForFunction("() => document.getElementById('status').textContent.startsWith('Undone')");
        page.keyboard().press("4");
        page.keyboard().press("Enter");
        expected.put(lastTask, Choice.CHOICE_BOTH_BAD);
        page.waitForSelector("#empty-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        page.waitForFunction("() => document.getElementById('progress').textContent.includes('Done today: 3')");

        Map<String, Choice> stored = new HashMap<>();
        for (Judgment j : stack.standingJudgments("kay")) {
            JudgmentSubmission s = j.getSubmission();
            assertEquals(0, s.getCandidateA(), "the store hears the true pair (0, 1)");
            assertEquals(1, s.getCandidateB());
            assertEquals(null, stored.put(s.getTaskId(), s.getChoice()), "one standing judgment per task");
        }
        assertEquals(expected, stored, "the store holds exactly the judgments given, on the true candidates");
        assertEquals(4, stack.allJudgments("kay").size(), "three judgments and the one taken back, no duplicates");

        // a task arriving while the queue is empty shows up by itself
        stack.task("t4", "Prompt 4", "first of 4", "second of 4", 1);
        page.waitForFunction("() => document.getElementById('prompt').textContent === 'Prompt 4'"
                + " && !document.getElementById('task-view').hidden");
        assertEquals(List.of(), consoleErrors);
    }

    @Test
    void aLostAcknowledgementIsResentWithTheSameJudgmentIdAndADoubleSubmitCountsOnce() throws Exception {
        stack = new LabelingStack(dir, 1, Optional.empty());
        String token = stack.annotator("net", false);
        stack.task("r1", "Prompt r1", "first", "second", 1);
        stack.task("r2", "Prompt r2", "first", "second", 1);
        Page page = signIn(token, ColorScheme.LIGHT);
        String prompt = shownPrompt(page);

        // the first submission reaches the store but its answer is lost on the way back
        java.util.concurrent.atomic.AtomicInteger posts = new java.util.concurrent.atomic.AtomicInteger();
        List<String> sentIds = new java.util.concurrent.CopyOnWriteArrayList<>();
        page.route("**/api/judgments", route -> {
            sentIds.add(com.google.gson.JsonParser.parseString(route.request().postData()).getAsJsonObject()
                    .get("judgmentId").getAsString());
            if (posts.incrementAndGet() == 1) {
                route.fetch();
                route.abort("connectionreset");
            } else {
                route.resume();
            }
        });
        page.keyboard().press("2");
        page.keyboard().press("Enter");
        page.keyboard().press("Enter");
        prompt = nextPrompt(page, prompt);
        assertEquals(2, sentIds.size(), "one lost answer, one resend: " + sentIds);
        assertEquals(sentIds.get(0), sentIds.get(1), "the resend carries the same judgment id");

        page.keyboard().press("3");
        page.evaluate("() => { document.getElementById('submit').click(); document.getElementById('submit').click(); }");
        page.waitForSelector("#empty-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        assertEquals(2, stack.allJudgments("net").size(), "one judgment per task, whatever the network did");
    }

    @Test
    void hostileModelTextIsShownAsTextAndRunsNothing() throws Exception {
        stack = new LabelingStack(dir, 1, Optional.empty());
        String token = stack.annotator("eve", false);
        String payload = "<script>window.__pwned = 1</script>\n<img src=x onerror=\"window.__pwned = 2\">\n"
                + "[click me](javascript:window.__pwned=3) **bold** <b>tag</b>";
        stack.task("x1", "<img src=x onerror=\"window.__pwned = 4\">", payload, "plain " + payload, 1);

        Page page = signIn(token, ColorScheme.LIGHT);
        shownPrompt(page);
        page.waitForTimeout(300);
        assertTrue(page.textContent("#response-a").contains("<script>window.__pwned = 1</script>"),
                "the markup is visible as text");
        assertTrue(page.textContent("#prompt").contains("<img src=x"), "the prompt too");
        assertEquals(Boolean.TRUE, page.evaluate("() => window.__pwned === undefined"), "nothing ran");
        assertEquals(0, page.evaluate("() => document.querySelectorAll('img').length"), "no <img> was created");
        assertEquals(0, page.evaluate("() => document.querySelectorAll('main b, main a, main script').length"),
                "no element came from model text");
        page.click("#response-a");
        assertEquals(Boolean.TRUE, page.evaluate("() => window.__pwned === undefined"));
    }

    @Test
    void twoAnnotatorsAtOnceNeverGetTheSameTaskBeyondItsAnnotations() throws Exception {
        stack = new LabelingStack(dir, 1, Optional.empty());
        String tokenA = stack.annotator("ann", false);
        String tokenB = stack.annotator("bob", false);
        for (int i = 1; i <= 6; i++) {
            stack.task("c" + i, "Prompt " + i, "first " + i, "second " + i, 1);
        }
        Page a = signIn(tokenA, ColorScheme.LIGHT);
        Page b = signIn(tokenB, ColorScheme.LIGHT);
        Set<String> seenA = new HashSet<>();
        Set<String> seenB = new HashSet<>();
        String promptA = shownPrompt(a);
        String promptB = shownPrompt(b);
        for (int round = 0; round < 3; round++) {
            assertNotEquals(promptA, promptB, "both annotators were shown the same task at once");
            seenA.add(promptA);
            seenB.add(promptB);
            a.keyboard().press("1");
            a.keyboard().press("Enter");
            b.keyboard().press("2");
            b.keyboard().press("Enter");
            if (round < 2) {
                promptA = nextPrompt(a, promptA);
                promptB = nextPrompt(b, promptB);
            }
        }
        a.waitForSelector("#empty-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        b.waitForSelector("#empty-view", new Page.WaitForSelectorOptions().setState(WaitForSelectorState.VISIBLE));
        Set<String> both = new HashSet<>(seenA);
        both.retainAll(seenB);
        assertTrue(both.isEmpty(), "tasks needing one annotation went to both: " + both);
        assertEquals(6, seenA.size() + seenB.size());
        Set<String> judged = new HashSet<>();
        stack.standingJudgments("ann").forEach(j -> judged.add(j.getSubmission().getTaskId()));
        stack.standingJudgments("bob").forEach(j -> assertTrue(judged.add(j.getSubmission().getTaskId()),
                "judged twice: " + j.getSubmission().getTaskId()));
        assertEquals(6, judged.size());
    }

    @Test
    void aWrongTokenSeesNothing() throws Exception {
        stack = new LabelingStack(dir, 1, Optional.empty());
        stack.task("w1", "Secret prompt", "first", "second", 1);
        Page page = signIn("not-a-token", ColorScheme.LIGHT);
        page.waitForFunction("() => document.getElementById('sign-in-error').textContent.length > 0");
        assertTrue(page.isHidden("#work-view"));
        assertFalse(page.content().contains("Secret prompt"));
        Object status = page.evaluate("() => fetch('/api/task').then(r => r.status)");
        assertEquals(401, ((Number) status).intValue());
    }

    @Test
    void thePageHasNoSeriousAccessibilityViolationsInLightOrDark() throws Exception {
        stack = new LabelingStack(dir, 1, Optional.empty());
        String token = stack.annotator("ada", false);
        stack.task("a1", "Explain recursion to a new programmer in two sentences.",
                "Recursion is when a function calls itself to solve a smaller copy of the same problem.\n"
                        + "Each call works on a smaller input until it reaches a base case that needs no further call.",
                "def fact(n):\n    # the base case ends the recursion\n    return 1 if n <= 1 else n * fact(n - 1)\n\n"
                        + "A function that calls itself, like fact above, is recursive.", 1);
        for (ColorScheme scheme : new ColorScheme[] {ColorScheme.LIGHT, ColorScheme.DARK}) {
            Page signedOut = page(scheme);
            signedOut.navigate(stack.ui.url());
            signedOut.waitForSelector("#token");
            assertEquals(List.of(), Chromium.seriousViolations(signedOut), "sign-in form, " + scheme);

            Page page = signIn(token, scheme);
            shownPrompt(page);
            page.keyboard().press("1");
            page.waitForTimeout(100);
            Chromium.screenshot(page, "annotator-" + scheme.name().toLowerCase(java.util.Locale.ROOT));
            page.click("#guidelines summary");
            assertEquals(List.of(), Chromium.seriousViolations(page), "task view, " + scheme);
        }

        // 200 % zoom on a 1366x768 laptop: half the CSS pixels at twice the density; nothing scrolls sideways
        BrowserContext zoomed = chromium.browser.newContext(new Browser.NewContextOptions()
                .setViewportSize(683, 384).setDeviceScaleFactor(2));
        contexts.add(zoomed);
        Page page = zoomed.newPage();
        page.navigate(stack.ui.url());
        page.fill("#token", token);
        page.press("#token", "Enter");
        shownPrompt(page);
        assertEquals(Boolean.TRUE, page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"),
                "the page fits the width at 200 % zoom");
        Chromium.screenshot(page, "annotator-zoom-200");
    }
}
