package dev.rlhf.cli;

import dev.rlhf.store.PreferenceStore;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rlhf annotators}: adds and revokes the people who label, in a store no other process has open. */
@Command(name = "annotators", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf annotators add --store data/preferences alice",
            "  ./rlhf annotators add --store data/preferences --admin carol",
            "  ./rlhf annotators revoke --store data/preferences alice"},
        description = "Add or revoke annotators of a preference store (while `rlhf label` serves the store, use its"
                + " admin page instead).",
        subcommands = {AnnotatorsCommand.Add.class, AnnotatorsCommand.Revoke.class})
final class AnnotatorsCommand implements Runnable {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code rlhf annotators add}: the new token is the last line printed, and the only time it is shown. */
    @Command(name = "add", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  ./rlhf annotators add --store data/preferences alice"},
            description = "Add an annotator and print their sign-in token as the last line (the store keeps only its"
                    + " hash, so it is shown this once).")
    static final class Add implements Callable<Integer> {
        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;
        @Mixin private StoreOption store;

        @Parameters(paramLabel = "NAME", description = "The annotator's name, unique in the store.")
        private String name;

        @Option(names = "--admin", description = "May use the admin page (add and revoke annotators, agreement,"
                + " adjudication, export).")
        private boolean admin;

        @Override
        public Integer call() {
            try (PreferenceStore opened = store.open(CliContext.load(), true)) {
                String token = opened.addAnnotator(name, admin).join();
                PrintWriter out = spec.commandLine().getOut();
                out.println("annotator " + name + " added" + (admin ? " (admin)" : "") + "; token:");
                out.println(token);
                out.flush();
            }
            return 0;
        }
    }

    /** {@code rlhf annotators revoke}. */
    @Command(name = "revoke", mixinStandardHelpOptions = true,
            footer = {"", "Examples:", "  ./rlhf annotators revoke --store data/preferences alice"},
            description = "Revoke an annotator's token at once; their judgments stay.")
    static final class Revoke implements Callable<Integer> {
        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;
        @Mixin private StoreOption store;

        @Parameters(paramLabel = "NAME", description = "The annotator's name.")
        private String name;

        @Override
        public Integer call() {
            try (PreferenceStore opened = store.open(CliContext.load(), false)) {
                opened.revokeAnnotator(name).join();
                spec.commandLine().getOut().println("annotator " + name + " revoked");
                spec.commandLine().getOut().flush();
            }
            return 0;
        }
    }
}
