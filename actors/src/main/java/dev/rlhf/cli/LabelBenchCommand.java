package dev.rlhf.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code rlhf bench label}: annotators labeling at once through the labeling UI over loopback HTTP. */
@Command(name = "label", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf bench label",
            "  ./rlhf bench label --annotators 20 --judgments 2000"},
        description = "Annotators signed in to the labeling UI (fresh store, PreferenceService and UI on loopback,"
                + " as `rlhf label` serves them) ask for tasks and submit judgments at once; prints JSON with"
                + " judgments/s and the p50/p99 latency of submit and next-task calls.")
final class LabelBenchCommand implements Callable<Integer> {

    @Option(names = "--annotators", defaultValue = "20",
            description = "Annotators working at once, one thread each (default: ${DEFAULT-VALUE}).")
    private int annotators;

    @Option(names = "--judgments", defaultValue = "2000",
            description = "Judgments given in all (default: ${DEFAULT-VALUE}).")
    private int judgments;

    @Override
    public Integer call() throws Exception {
        System.out.println(LabelingBenchmark.runJson(CliContext.load().config(), annotators, judgments));
        return 0;
    }
}
