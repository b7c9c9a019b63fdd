package dev.rlhf.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The command line of a child JVM running a main class of the test classpath, for tests of whole processes. */
public final class ChildJvm {
    private ChildJvm() {}

    /** {@code java OPTIONS -cp <test classpath> MAIN ARGS}, with logback's own start-up chatter silenced. */
    public static List<String> command(List<String> jvmOptions, Class<?> main, String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-Dlogback.statusListenerClass=ch.qos.logback.core.status.NopStatusListener");
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        command.addAll(List.of(args));
        return command;
    }
}
