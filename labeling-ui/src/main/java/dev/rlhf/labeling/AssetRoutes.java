package dev.rlhf.labeling;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/** The pages, their scripts, style and icon, and uPlot from its WebJar. */
final class AssetRoutes {
    private final StaticAssets assets;

    AssetRoutes(StaticAssets assets) {
        this.assets = assets;
    }

    void addTo(Router router) {
        router.add("GET", "/|/admin|/assets/[a-z]+\\.(?:js|css|svg)|/vendor/uplot/uPlot\\.(?:esm\\.js|min\\.css)",
                Route.Access.PUBLIC, this::asset);
    }

    private CompletionStage<HttpResponse> asset(ApiCall call) {
        StaticAssets.Asset a = assets.get(call.request().getUri().path())
                .orElseThrow(() -> new ApiError(404, "no such file"));
        ContentType type = switch (a.kind()) {
            case "html" -> MediaTypes.TEXT_HTML.toContentType(HttpCharsets.UTF_8);
            case "css" -> MediaTypes.TEXT_CSS.toContentType(HttpCharsets.UTF_8);
            case "svg" -> MediaTypes.IMAGE_SVG_XML.toContentType();
            default -> MediaTypes.APPLICATION_JAVASCRIPT.toContentType(HttpCharsets.UTF_8);
        };
        // versioned WebJar paths never change; the pages' own files are revalidated
        return Responses.done(HttpResponse.create().withEntity(HttpEntities.create(type, a.bytes()))
                .addHeader(RawHeader.create("Cache-Control", a.immutable() ? "public, max-age=31536000, immutable"
                        : "no-cache")));
    }
}
