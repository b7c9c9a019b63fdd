package dev.rlhf.labeling;

import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/** One route: a method, a path pattern, who may call it, and what answers it. */
record Route(String method, Pattern path, Access access, Handler handler) {

    /** Who may send a route's requests. */
    enum Access {
        /** anyone */
        PUBLIC,
        /** anyone, to sign in (the handler limits the attempts) */
        SIGN_IN,
        /** a signed-in annotator */
        ANNOTATOR,
        /** a signed-in admin */
        ADMIN
    }

    /** What a route does with a request it matched. */
    @FunctionalInterface
    interface Handler {
        CompletionStage<HttpResponse> handle(ApiCall call) throws Exception;
    }

    Route(String method, String pathRegex, Access access, Handler handler) {
        this(method, Pattern.compile(pathRegex), access, handler);
    }

    /** Whether it changes state: such requests need the CSRF token and the UI's own Origin. */
    boolean changesState() {
        return !method.equals("GET");
    }
}
