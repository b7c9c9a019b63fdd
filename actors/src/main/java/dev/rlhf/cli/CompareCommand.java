package dev.rlhf.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import dev.rlhf.actors.Algorithm;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.run.ExperimentRunner;
import dev.rlhf.run.RunSummary;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rlhf compare}: runs each algorithm with each seed on the embedded task, one run after another in this JVM,
 * from the same SFT policy (and, per seed, the same initial comparisons and first reward model), then writes
 * {@code compare.csv} and the figures ({@link ComparisonResults}, {@link ComparisonCharts}) and prints a table per
 * algorithm; the last line is the path of {@code compare.csv}.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf compare --algorithms ppo,grpo,rloo",
            "  ./rlhf compare --algorithms ppo,rloo --seeds 2 --iterations 20",
            "  ./rlhf compare --algorithms ppo,grpo --budget-seconds 300 --out runs/c1"},
        description = "Compare algorithms (ppo, grpo, rloo) on the embedded task: every algorithm with every seed "
                + "from the same SFT policy, then compare.csv (gold reward, reward-model score and KL per "
                + "iteration), gold-vs-kl.png, gold-vs-seconds.png, overoptimisation-ppo.png and a table.")
final class CompareCommand implements Callable<Integer> {

    static final String CSV_FILE = "compare.csv";

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Option(names = "--algorithms", required = true, split = ",", paramLabel = "ALG[,ALG...]",
            description = "Algorithms to compare: ppo, grpo, rloo.")
    private List<String> algorithms;

    @Option(names = "--seeds", defaultValue = "3", description = "Runs per algorithm, seeds 1..N (default: 3).")
    private int seeds;

    @Option(names = "--budget-seconds", defaultValue = "0", description = "Wall-clock seconds per run "
            + "(rlhf.experiment.budget-seconds); default 0: no budget, every run does all its iterations.")
    private double budgetSeconds;

    @Option(names = "--iterations", description = "Iterations per run (default: rlhf.experiment.iterations).")
    private Integer iterations;

    @Option(names = "--out", description = "Directory of the runs and results (default: runs/compare-<time>).")
    private Path out;

    @Option(names = "--config", description = "HOCON file of further settings (rlhf.ppo, rlhf.grpo, ...); unset "
            + "keys take their reference.conf defaults.")
    private Path configFile;

    @Override
    public Integer call() throws Exception {
        List<Algorithm> chosen = parseAlgorithms();
        if (seeds < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--seeds must be at least 1 but was "
                    + seeds);
        }
        if (!(budgetSeconds >= 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--budget-seconds must not be negative "
                    + "but was " + budgetSeconds);
        }
        if (iterations != null && iterations < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--iterations must be at least 1 but was "
                    + iterations);
        }
        Config base = configFile != null ? CliContext.readConfigFile(configFile) : CliContext.load().config();
        base = base.withValue("rlhf.experiment.prompts", ConfigValueFactory.fromAnyRef(""))
                .withValue("rlhf.experiment.budget-seconds", ConfigValueFactory.fromAnyRef(budgetSeconds));
        if (iterations != null) {
            base = base.withValue("rlhf.experiment.iterations", ConfigValueFactory.fromAnyRef(iterations));
        }
        Path dir = out != null ? out
                : Path.of("runs", "compare-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        List<ComparisonResults.Run> runs = new ArrayList<>();
        List<Config> configs = new ArrayList<>();
        for (Algorithm algorithm : chosen) {
            for (int seed = 1; seed <= seeds; seed++) {
                ComparisonResults.Run run = new ComparisonResults.Run(algorithm.key(), seed,
                        dir.resolve(algorithm.key() + "-seed" + seed));
                if (holdsFiles(run.dir())) {
                    throw new IllegalArgumentException("--out " + dir + " already holds run " + run.dir()
                            + ": choose a new --out");
                }
                Config config = base.withValue("rlhf.algorithm", ConfigValueFactory.fromAnyRef(algorithm.key()))
                        .withValue("rlhf.experiment.seed", ConfigValueFactory.fromAnyRef(seed))
                        .withValue("rlhf.experiment.run-dir", ConfigValueFactory.fromAnyRef(run.dir().toString()));
                ExperimentSettings.from(config); // a bad setting is reported before the first run starts
                runs.add(run);
                configs.add(config);
            }
        }
        PrintWriter console = spec.commandLine().getOut();
        Path policy = CliContext.experimentPolicy(base);
        Files.createDirectories(dir);
        try (AutoCloseable quiet = ConsoleLogFilter.quiet(CliErrors.verbose(spec.commandLine().getParseResult()))) {
            for (int i = 0; i < runs.size(); i++) {
                ComparisonResults.Run run = runs.get(i);
                console.printf("run %d of %d: %s seed %d in %s%n", i + 1, runs.size(), run.algorithm(), run.seed(),
                        run.dir());
                console.flush();
                Path log = dir.resolve(run.dir().getFileName() + ".console.txt");
                try (PrintStream runConsole = new PrintStream(Files.newOutputStream(log), true,
                        StandardCharsets.UTF_8)) {
                    RunSummary summary = new ExperimentRunner(configs.get(i), policy, runConsole).run();
                    console.printf(Locale.ROOT, "  %d iterations in %.0f s: gold gain %+.3f, KL %.2f%n",
                            summary.iterations(), summary.secondsTotal(),
                            summary.gold().map(g -> g.gain().mean()).orElse(Double.NaN), summary.klFinal().mean());
                    console.flush();
                }
            }
        }
        ComparisonResults results = ComparisonResults.read(runs);
        Path csv = results.writeCsv(dir.resolve(CSV_FILE));
        List<Path> figures = ComparisonCharts.draw(results, dir);
        console.println();
        results.printRuns(console);
        console.println();
        results.printTable(console);
        console.println();
        for (Path figure : figures) {
            console.println("figure: " + figure.toAbsolutePath());
        }
        console.println(csv.toAbsolutePath());
        console.flush();
        return 0;
    }

    private List<Algorithm> parseAlgorithms() {
        LinkedHashSet<Algorithm> chosen = new LinkedHashSet<>();
        for (String name : algorithms) {
            try {
                chosen.add(Algorithm.parse(name.strip()));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--algorithms: unknown algorithm \""
                        + name.strip() + "\" (choose from " + Stream.of(Algorithm.values()).map(Algorithm::key)
                        .toList() + ")");
            }
        }
        return List.copyOf(chosen);
    }

    private static boolean holdsFiles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Files.exists(dir);
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isPresent();
        }
    }
}
