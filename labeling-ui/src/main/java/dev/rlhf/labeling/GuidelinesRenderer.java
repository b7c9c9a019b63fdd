package dev.rlhf.labeling;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A small Markdown renderer for the guidelines: headings, paragraphs, lists, emphasis, inline and fenced code,
 * and links to http(s) addresses. Every piece of text is HTML-escaped, no raw HTML passes, and a link to any other
 * scheme (javascript:, data:, ...) is shown as its text only; so the output is safe to place in the page.
 */
final class GuidelinesRenderer {

    private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*?)\\s*#*\\s*$");
    private static final Pattern BULLET = Pattern.compile("^\\s*[-*+]\\s+(.*)$");
    private static final Pattern NUMBERED = Pattern.compile("^\\s*\\d{1,9}[.)]\\s+(.*)$");
    private static final Pattern LINK = Pattern.compile("\\[([^\\]]*)]\\(\\s*([^)\\s]*)\\s*\\)");
    private static final Pattern SAFE_URL = Pattern.compile("^https?://[^\\s\"'<>`]+$", Pattern.CASE_INSENSITIVE);

    private GuidelinesRenderer() {
    }

    /** The HTML for a Markdown text; empty for an empty text. */
    static String render(String markdown) {
        StringBuilder out = new StringBuilder();
        List<String> paragraph = new ArrayList<>();
        String listTag = null;
        boolean inCode = false;
        for (String line : markdown.replace("\r\n", "\n").split("\n", -1)) {
            if (inCode) {
                if (line.strip().startsWith("```")) {
                    out.append("</code></pre>\n");
                    inCode = false;
                } else {
                    out.append(escape(line)).append('\n');
                }
                continue;
            }
            Matcher h = HEADING.matcher(line);
            Matcher b = BULLET.matcher(line);
            Matcher n = NUMBERED.matcher(line);
            String itemTag = b.matches() ? "ul" : n.matches() ? "ol" : null;
            if (line.isBlank() || h.matches() || itemTag != null || line.strip().startsWith("```")) {
                flushParagraph(out, paragraph);
                if (listTag != null && !listTag.equals(itemTag)) {
                    out.append("</").append(listTag).append(">\n");
                    listTag = null;
                }
            }
            if (line.strip().startsWith("```")) {
                out.append("<pre><code>");
                inCode = true;
            } else if (h.matches()) {
                int level = h.group(1).length();
                out.append("<h").append(level).append('>').append(inline(h.group(2)))
                        .append("</h").append(level).append(">\n");
            } else if (itemTag != null) {
                if (listTag == null) {
                    out.append('<').append(itemTag).append(">\n");
                    listTag = itemTag;
                }
                out.append("<li>").append(inline((b.matches() ? b : n).group(1))).append("</li>\n");
            } else if (!line.isBlank()) {
                if (listTag != null) {
                    out.append("</").append(listTag).append(">\n");
                    listTag = null;
                }
                paragraph.add(line.strip());
            }
        }
        flushParagraph(out, paragraph);
        if (listTag != null) {
            out.append("</").append(listTag).append(">\n");
        }
        if (inCode) {
            out.append("</code></pre>\n");
        }
        return out.toString();
    }

    private static void flushParagraph(StringBuilder out, List<String> paragraph) {
        if (!paragraph.isEmpty()) {
            out.append("<p>").append(inline(String.join(" ", paragraph))).append("</p>\n");
            paragraph.clear();
        }
    }

    /** Inline markup: `code` first (its content is literal), then links, then **strong** and *em*. */
    static String inline(String text) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            int tick = text.indexOf('`', i);
            if (tick < 0) {
                out.append(links(text.substring(i)));
                break;
            }
            int close = text.indexOf('`', tick + 1);
            if (close < 0) {
                out.append(links(text.substring(i)));
                break;
            }
            out.append(links(text.substring(i, tick)));
            out.append("<code>").append(escape(text.substring(tick + 1, close))).append("</code>");
            i = close + 1;
        }
        return out.toString();
    }

    private static String links(String text) {
        StringBuilder out = new StringBuilder();
        Matcher m = LINK.matcher(text);
        int last = 0;
        while (m.find()) {
            out.append(emphasis(escape(text.substring(last, m.start()))));
            String label = emphasis(escape(m.group(1)));
            String url = m.group(2);
            if (SAFE_URL.matcher(url).matches()) {
                out.append("<a href=\"").append(escape(url))
                        .append("\" rel=\"noopener noreferrer\" target=\"_blank\">").append(label).append("</a>");
            } else {
                out.append(label);
            }
            last = m.end();
        }
        out.append(emphasis(escape(text.substring(last))));
        return out.toString();
    }

    /** Emphasis over already escaped text (its markers are no HTML characters). */
    private static String emphasis(String escaped) {
        return escaped.replaceAll("\\*\\*(\\S(?:.*?\\S)?)\\*\\*", "<strong>$1</strong>")
                .replaceAll("(?<![\\w*])\\*(\\S(?:.*?\\S)?)\\*(?![\\w*])", "<em>$1</em>")
                .replaceAll("(?<![\\w_])_(\\S(?:.*?\\S)?)_(?![\\w_])", "<em>$1</em>");
    }

    /** Escapes the five HTML-significant characters. */
    static String escape(String s) {
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }

}
