package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GuidelinesRendererTest {

    @Test
    void rendersHeadingsParagraphsListsEmphasisAndCode() {
        String html = GuidelinesRenderer.render("""
                # Title
                Some **bold** and *italic* text
                over two lines.

                - one `x < y`
                - two

                1. first
                2. second

                ```
                <code> & more
                ```
                """);
        assertEquals("""
                <h1>Title</h1>
                <p>Some <strong>bold</strong> and <em>italic</em> text over two lines.</p>
                <ul>
                <li>one <code>x &lt; y</code></li>
                <li>two</li>
                </ul>
                <ol>
                <li>first</li>
                <li>second</li>
                </ol>
                <pre><code>&lt;code&gt; &amp; more
                </code></pre>
                """, html);
    }

    @Test
    void htmlAndScriptAreEscapedText() {
        String html = GuidelinesRenderer.render("<script>alert(1)</script> <img src=x onerror=alert(1)> \"q\" 'a'");
        assertFalse(html.contains("<script"), html);
        assertFalse(html.contains("<img"), html);
        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), html);
        assertTrue(html.contains("&quot;q&quot; &#39;a&#39;"), html);
    }

    @Test
    void onlyHttpLinksBecomeAnchors() {
        String html = GuidelinesRenderer.inline("[ok](https://example.org/a?b=1&c=2) [bad](javascript:alert(1)) "
                + "[data](data:text/html,x) [rel](/admin) [quote](https://x.org/\"onmouseover=alert(1))");
        assertTrue(html.contains("<a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"noopener noreferrer\" "
                + "target=\"_blank\">ok</a>"), html);
        assertFalse(html.contains("javascript:\""), html);
        assertFalse(html.toLowerCase().contains("href=\"javascript"), html);
        assertFalse(html.contains("href=\"data"), html);
        assertFalse(html.contains("href=\"/admin"), html);
        assertFalse(html.contains("onmouseover=alert(1)\""), html);
        assertTrue(html.contains("bad"), "a refused link keeps its text: " + html);
    }

    @Test
    void emptyGuidelinesRenderNothing() {
        assertEquals("", GuidelinesRenderer.render(""));
    }
}
