package dev.rlhf.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import picocli.CommandLine;

/** What {@code rlhf --version} prints: the version and the commit it was built from (git.properties, by the build). */
final class BuildVersion implements CommandLine.IVersionProvider {
    static final String PROPERTIES = "git.properties";

    @Override
    public String[] getVersion() {
        Properties build = new Properties();
        try (InputStream in = BuildVersion.class.getResourceAsStream(PROPERTIES)) {
            if (in != null) {
                build.load(in);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + PROPERTIES, e);
        }
        String version = build.getProperty("git.build.version", "(version unknown)");
        String commit = build.getProperty("git.commit.id.abbrev", "");
        if (commit.isEmpty()) {
            return new String[] {"rlhf " + version + " (not built from a git checkout)"};
        }
        String dirty = Boolean.parseBoolean(build.getProperty("git.dirty")) ? ", with uncommitted changes" : "";
        return new String[] {"rlhf " + version + " (commit " + commit + dirty + ")"};
    }
}
