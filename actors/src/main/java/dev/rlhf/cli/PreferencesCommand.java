package dev.rlhf.cli;

import dev.rlhf.store.PreferenceFormat;
import dev.rlhf.store.PreferenceJsonl;
import dev.rlhf.store.PreferenceStore;
import java.io.BufferedWriter;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rlhf preferences}: moves preference data between a store and JSONL files. */
@Command(name = "preferences", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf preferences import --store data/prefs --format pairs pairs.jsonl",
            "  ./rlhf preferences export --store data/prefs --format trl --out p.jsonl"},
        description = "Import pairs to label or judged preferences into a store, or export its judgments.",
        subcommands = {PreferencesCommand.Import.class, PreferencesCommand.Export.class})
final class PreferencesCommand implements Runnable {

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** What {@code import} reads: unlabeled pairs, or judged preferences in an interchange format. */
    enum ImportFormat { pairs, trl, hh }

    /** What {@code export} writes. */
    enum ExportFormat {
        trl(PreferenceFormat.TRL), hh(PreferenceFormat.HH_RLHF);

        final PreferenceFormat format;

        ExportFormat(PreferenceFormat format) {
            this.format = format;
        }
    }

    /** {@code rlhf preferences import}: all lines or none; a second import of the same file adds nothing. */
    @Command(name = "import", mixinStandardHelpOptions = true,
            footer = {"", "Examples:",
                "  ./rlhf preferences import --store data/prefs --format pairs pairs.jsonl",
                "  ./rlhf preferences import --store data/prefs --format hh train.jsonl"},
            description = "Import a JSONL file: `pairs` ({\"prompt\", \"response_a\", \"response_b\"}, optional"
                    + " \"id\") become tasks for annotators; `trl` ({\"prompt\", \"chosen\", \"rejected\"}) and `hh`"
                    + " (HH-RLHF {\"chosen\", \"rejected\"} transcripts) become judged preferences. A file with a"
                    + " malformed line is reported by line number and nothing of it is imported.")
    static final class Import implements Callable<Integer> {
        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;
        @Mixin private StoreOption store;

        @Option(names = "--format", required = true, description = "pairs, trl or hh.")
        private ImportFormat format;

        @Option(names = "--annotator", description = "Whose judgments trl and hh lines become (default: import).")
        private String annotator = "import";

        @Parameters(paramLabel = "FILE", description = "The JSONL file.")
        private Path file;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException("FILE: no such file: " + file);
            }
            String source = "import:" + file.getFileName();
            try (PreferenceStore opened = store.open(CliContext.load(), true);
                    Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                PreferenceJsonl jsonl = new PreferenceJsonl(opened);
                PreferenceJsonl.ImportSummary summary = switch (format) {
                    case pairs -> jsonl.importPairs(in, source);
                    case trl -> jsonl.importFrom(PreferenceFormat.TRL, in, annotator, source);
                    case hh -> jsonl.importFrom(PreferenceFormat.HH_RLHF, in, annotator, source);
                };
                spec.commandLine().getOut().println("imported " + summary.lines() + " lines from " + file + ": "
                        + summary.newJudgments() + (format == ImportFormat.pairs ? " new tasks" : " new judgments"));
            }
            return 0;
        }
    }

    /** {@code rlhf preferences export}: to standard output, or to a file whose path is then the last line. */
    @Command(name = "export", mixinStandardHelpOptions = true,
            footer = {"", "Examples:",
                "  ./rlhf preferences export --store runs/q1/preferences --format trl",
                "  ./rlhf preferences export --store data/prefs --format hh --out hh.jsonl"},
            description = "Export the store's A/B judgments (ties, both-bad, skips and retracted judgments have no"
                    + " place in these formats) as JSONL, in judgment order.")
    static final class Export implements Callable<Integer> {
        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;
        @Mixin private StoreOption store;

        @Option(names = "--format", required = true, description = "trl or hh.")
        private ExportFormat format;

        @Option(names = "--out", paramLabel = "FILE", description = "Write here instead of standard output.")
        private Path out;

        @Override
        public Integer call() throws Exception {
            try (PreferenceStore opened = store.open(CliContext.load(), false)) {
                PreferenceJsonl jsonl = new PreferenceJsonl(opened);
                if (out == null) {
                    // UTF-8 whatever the platform's encoding: JSONL is UTF-8 by definition
                    Writer stdout = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
                    jsonl.export(format.format, stdout);
                    stdout.flush();
                    return 0;
                }
                Path temporary = out.resolveSibling(out.getFileName() + ".partial");
                long lines;
                try (Writer file = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                    lines = jsonl.export(format.format, file);
                }
                Files.move(temporary, out, StandardCopyOption.REPLACE_EXISTING);
                PrintWriter stdout = spec.commandLine().getOut();
                stdout.println("exported " + lines + " preferences to");
                stdout.println(out);
            }
            return 0;
        }
    }
}
