package dev.rlhf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The packages of this module depend on each other one way only (auth, store, metrics, experiment, actors, cluster,
 * run, serve, cli, bottom to top), read from the imports of the main sources.
 */
class PackageCyclesTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/rlhf");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.rlhf\\.([a-z]+)\\.",
            Pattern.MULTILINE);

    @Test
    void packagesOfThisModuleFormNoCycle() throws IOException {
        Map<String, Set<String>> dependencies = dependencies();
        assertTrue(dependencies.containsKey("actors") && dependencies.containsKey("run"), dependencies.toString());

        List<String> cycle = findCycle(dependencies);

        assertEquals(List.of(), cycle, "a package cycle; the dependencies are " + dependencies);
    }

    /** Each package of this module and the packages of this module it imports from. */
    private static Map<String, Set<String>> dependencies() throws IOException {
        Map<String, Set<String>> dependencies = new TreeMap<>();
        try (Stream<Path> packages = Files.list(SOURCES)) {
            for (Path dir : packages.filter(Files::isDirectory).toList()) {
                dependencies.put(dir.getFileName().toString(), new TreeSet<>());
            }
        }
        for (Map.Entry<String, Set<String>> entry : dependencies.entrySet()) {
            try (Stream<Path> files = Files.list(SOURCES.resolve(entry.getKey()))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    Matcher m = IMPORT.matcher(Files.readString(file));
                    while (m.find()) {
                        if (dependencies.containsKey(m.group(1)) && !m.group(1).equals(entry.getKey())) {
                            entry.getValue().add(m.group(1));
                        }
                    }
                }
            }
        }
        return dependencies;
    }

    /** A cycle as the list of its packages, or an empty list. */
    private static List<String> findCycle(Map<String, Set<String>> dependencies) {
        Set<String> done = new TreeSet<>();
        for (String start : dependencies.keySet()) {
            List<String> cycle = visit(start, dependencies, new ArrayList<>(), done);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        return List.of();
    }

    private static List<String> visit(String node, Map<String, Set<String>> dependencies, List<String> path,
            Set<String> done) {
        int at = path.indexOf(node);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>(path.subList(at, path.size()));
            cycle.add(node);
            return cycle;
        }
        if (done.contains(node)) {
            return List.of();
        }
        path.add(node);
        for (String next : dependencies.get(node)) {
            List<String> cycle = visit(next, dependencies, path, done);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        done.add(node);
        return List.of();
    }
}
