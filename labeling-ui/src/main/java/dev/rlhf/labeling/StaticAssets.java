package dev.rlhf.labeling;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/** The pages, scripts and styles served from the jar, read once at start. */
final class StaticAssets {

    /**
     * One file.
     *
     * @param bytes its content
     * @param kind html, js, css or svg
     * @param immutable served from a versioned path (a WebJar): may be cached for long
     */
    record Asset(byte[] bytes, String kind, boolean immutable) {
    }

    private static final String WEB = "dev/rlhf/labeling/web/";
    private final Map<String, Asset> byPath = new HashMap<>();

    StaticAssets() {
        add("/", WEB + "index.html", "html", false);
        add("/admin", WEB + "admin.html", "html", false);
        for (String name : new String[] {"app.js", "admin.js", "common.js", "dashboard.js"}) {
            add("/assets/" + name, WEB + name, "js", false);
        }
        add("/assets/style.css", WEB + "style.css", "css", false);
        add("/assets/icon.svg", WEB + "icon.svg", "svg", false);
        String uplot = "META-INF/resources/webjars/uplot/" + uplotVersion() + "/dist/";
        add("/vendor/uplot/uPlot.esm.js", uplot + "uPlot.esm.js", "js", true);
        add("/vendor/uplot/uPlot.min.css", uplot + "uPlot.min.css", "css", true);
    }

    /** The asset at a request path, if there is one. */
    Optional<Asset> get(String path) {
        return Optional.ofNullable(byPath.get(path));
    }

    private void add(String path, String resource, String kind, boolean immutable) {
        byPath.put(path, new Asset(read(resource), kind, immutable));
    }

    private static String uplotVersion() {
        Properties p = new Properties();
        try (InputStream in = resource("dev/rlhf/labeling/webjars.properties")) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p.getProperty("uplot.version");
    }

    private static byte[] read(String resource) {
        try (InputStream in = resource(resource)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource + " from the class path", e);
        }
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = StaticAssets.class.getClassLoader().getResourceAsStream(name);
        if (in == null) {
            throw new IOException(name + " is missing from the class path");
        }
        return in;
    }
}
