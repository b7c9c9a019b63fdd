package dev.rlhf.cli;

import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * {@code --data} and {@code --format}: the preference file that {@code rm train}, {@code rm eval} and
 * {@code dpo train} read.
 */
final class PreferenceFileOptions {
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "Preference pairs, JSONL.")
    private Path data;

    @Option(names = "--format", paramLabel = "trl|hh", description = "trl ({\"prompt\", \"chosen\","
            + " \"rejected\"}) or hh (HH-RLHF {\"chosen\", \"rejected\"} transcripts); default: trl when the"
            + " first line has a \"prompt\" key, hh otherwise.")
    private PreferenceDataFile.Format format;

    Path data() {
        return data;
    }

    /** The file, every line checked (see {@link PreferenceDataFile#read}). */
    PreferenceDataFile read() throws IOException {
        return PreferenceDataFile.read(data, format);
    }
}
