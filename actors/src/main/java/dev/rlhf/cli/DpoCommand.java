package dev.rlhf.cli;

import static dev.rlhf.cli.OfflineTraining.requireOption;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.typesafe.config.Config;
import dev.rlhf.actors.ExperimentSettings;
import dev.rlhf.policy.align.DpoSettings;
import dev.rlhf.policy.align.PreferenceLearner;
import dev.rlhf.policy.align.PreferenceStats;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.GptWeights;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.run.PolicyExport;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf dpo}: a policy tuned offline on a team's own preference data. */
@Command(name = "dpo", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf dpo train --policy models/embedded-sft --data prefs.jsonl",
            "  ./rlhf dpo train --policy sft --data hh.jsonl --format hh --algorithm ipo"},
        description = "Tune a policy with DPO or IPO on preference pairs (TRL or HH-RLHF JSONL).",
        subcommands = DpoCommand.Train.class)
final class DpoCommand implements Runnable {
    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The {@code --algorithm} values. */
    enum Algorithm { dpo, ipo }

    /** {@code rlhf dpo train}: DPO or IPO epochs from a checkpoint; one JSON object last on stdout. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            footer = {"", "Examples:",
                "  ./rlhf dpo train --policy models/embedded-sft --data prefs.jsonl",
                "  ./rlhf dpo train --policy sft --data hh.jsonl --format hh --out p/hh",
                "  ./rlhf dpo train --policy sft --data p.jsonl --algorithm ipo --epochs 5",
                "  ./rlhf dpo train --policy sft --data p.jsonl --beta 0.5 --learning-rate 3e-5"},
            description = "Tune the policy checkpoint on the file's preference pairs with the DPO (or IPO) loss"
                    + " against the checkpoint itself as the frozen reference, holding out a seeded share of the"
                    + " pairs, for a fixed number of epochs (rlhf.dpo or rlhf.ipo). The checkpoint's own"
                    + " tokenizer.json tokenizes; a pair whose prompt or longer response does not fit the context is"
                    + " skipped (a batch pads prompts and responses to its longest, so all pairs share one split of"
                    + " the context, the one that keeps the most). Every line is checked first: a malformed one is"
                    + " reported by file, line and field and nothing is trained. Progress goes to stderr, one line"
                    + " per epoch (epoch 0: the held-out pairs before training); the last line on stdout is one JSON"
                    + " object (held_out_loss, held_out_reward_accuracy, pairs_train, output, ...). The output is a"
                    + " policy in the Hugging Face layout `export` writes, which `generate --checkpoint` and an"
                    + " experiment's rlhf.experiment.policy-checkpoint read, with dpo.json: the figures of every"
                    + " epoch.")
    static final class Train implements Callable<Integer> {
        /** The per-epoch figures written beside the policy. */
        static final String REPORT_FILE = "dpo.json";

        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

        @Option(names = "--policy", required = true, paramLabel = "CHECKPOINT",
                description = "HF GPT-2 checkpoint (config.json, model.safetensors, tokenizer.json): the policy"
                        + " tuned and the reference.")
        private Path policy;

        @Mixin private PreferenceFileOptions preferences;

        @Option(names = "--algorithm", paramLabel = "dpo|ipo", defaultValue = "dpo",
                description = "dpo (-log sigmoid of the margin, rlhf.dpo) or ipo (the margin regressed onto"
                        + " 1/(2 beta), rlhf.ipo); default dpo.")
        private Algorithm algorithm;

        @Option(names = "--out", paramLabel = "DIR",
                description = "Where the policy goes; must not exist or be empty (default:"
                        + " policies/<data file name without extension>-<algorithm>).")
        private Path out;

        @Option(names = "--epochs", paramLabel = "N", description = "Passes over the training pairs (default"
                + " rlhf.dpo.epochs or rlhf.ipo.epochs).")
        private Integer epochs;

        @Option(names = "--held-out", paramLabel = "SHARE", description = "Share of the pairs held out, at"
                + " least one pair (default held-out-fraction of rlhf.dpo or rlhf.ipo).")
        private Double heldOut;

        @Option(names = "--seed", description = "Seeds the split and the order of pairs (default seed of rlhf.dpo"
                + " or rlhf.ipo).")
        private Long seed;

        @Option(names = "--learning-rate", paramLabel = "LR", description = "AdamW step size (default"
                + " learning-rate of rlhf.dpo or rlhf.ipo).")
        private Float learningRate;

        @Option(names = "--beta", paramLabel = "B", description = "Beta of the loss, the pull towards the"
                + " reference (default beta of rlhf.dpo or rlhf.ipo).")
        private Double beta;

        @Override
        public Integer call() throws Exception {
            CliContext context = CliContext.load();
            DpoSettings settings = settings(context.config());
            OfflineTraining.requireCheckpoint("--policy", policy);
            Path output = out != null
                    ? out
                    : Path.of("policies", OfflineTraining.stem(preferences.data()) + "-" + algorithm);
            OfflineTraining.requireEmptyOrAbsent(output);
            PreferenceDataFile file = preferences.read();
            PrintWriter err = spec.commandLine().getErr();
            try (NDManager manager = context.newManager();
                    TextTokenizer tokenizer = TextTokenizer.load(policy);
                    PreferenceLearner learner = learner(manager, settings)) {
                int contextLength = learner.policy().config().contextLength();
                PreferenceDataFile.TokenPairs encoded = file.tokenPairs(tokenizer, contextLength);
                if (encoded.skipped() > 0) {
                    err.printf("dpo train: skipped %d of %d pairs of %s: empty, or longer than the context of %d"
                            + " tokens as %d prompt + %d response tokens%n", encoded.skipped(), file.pairs().size(),
                            file.file(), contextLength, encoded.promptTokens(), contextLength - encoded.promptTokens());
                }
                PreferenceLearner.Split split = learner.split(encoded.pairs());
                if (split.train().isEmpty() || split.heldOut().isEmpty()) {
                    throw new IllegalArgumentException("--held-out " + settings.heldOutFraction() + " of the "
                            + encoded.pairs().size() + " pairs of " + file.file() + " leaves " + split.train().size()
                            + " to train on and " + split.heldOut().size() + " held out; each needs one");
                }
                err.printf("dpo train: %d pairs of %s (%s), %d held out, policy %s, %s for %d epochs%n",
                        split.train().size(), file.file(), file.formatName(), split.heldOut().size(), policy, algorithm,
                        settings.epochs());
                List<EpochFigures> epochs = new ArrayList<>();
                boolean verbose = CliErrors.verbose(spec.commandLine().getParseResult());
                try (AutoCloseable quiet = ConsoleLogFilter.quiet(verbose)) {
                    long start = System.nanoTime();
                    epochs.add(new EpochFigures(0, null, learner.evaluate(split.heldOut()), seconds(start)));
                    progress(err, epochs.get(0), settings);
                    for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
                        start = System.nanoTime();
                        PreferenceStats train = learner.trainEpoch(split.train(), learner.version());
                        epochs.add(new EpochFigures(epoch, train, learner.evaluate(split.heldOut()), seconds(start)));
                        progress(err, epochs.get(epoch), settings);
                    }
                }
                err.printf("dpo train: saving to %s%n", output);
                Path written = save(learner.policy().weights(), context.config(), output);
                // last, as rm train's reward_model.json: a directory with dpo.json holds a complete policy
                Files.writeString(written.resolve(REPORT_FILE), report(settings, file, epochs), StandardCharsets.UTF_8);

                PreferenceStats last = epochs.get(epochs.size() - 1).heldOut();
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("algorithm", algorithm.name());
                json.put("held_out_loss", last.loss());
                json.put("held_out_reward_accuracy", last.accuracy());
                json.put("held_out_reward_margin", last.margin());
                json.put("pairs_train", split.train().size());
                json.put("pairs_held_out", split.heldOut().size());
                json.put("pairs_skipped", encoded.skipped());
                json.put("epochs", settings.epochs());
                json.put("format", file.formatName());
                json.put("output", written.toString());
                OfflineTraining.printJson(spec, json);
            }
            return 0;
        }

        /** rlhf.dpo or rlhf.ipo with the options given; a bad option is named as typed. */
        private DpoSettings settings(Config config) {
            DpoSettings d = algorithm == Algorithm.dpo ? DpoSettings.dpo(config) : DpoSettings.ipo(config);
            requireOption(heldOut == null || heldOut > 0 && heldOut < 1, "--held-out must be in (0, 1)", heldOut);
            requireOption(epochs == null || epochs > 0, "--epochs must be positive", epochs);
            requireOption(learningRate == null || learningRate > 0, "--learning-rate must be positive", learningRate);
            requireOption(beta == null || beta > 0, "--beta must be positive", beta);
            return new DpoSettings(d.objective(), beta != null ? beta : d.beta(), d.labelSmoothing(), d.reduction(),
                    learningRate != null ? learningRate : d.learningRate(), d.weightDecay(), d.maxGradNorm(),
                    d.batchSize(), epochs != null ? epochs : d.epochs(), d.forwardBatchSize(),
                    seed != null ? seed : d.seed(), heldOut != null ? heldOut : d.heldOutFraction());
        }

        /** A learner whose policy and reference are copies of the checkpoint's weights, freed once copied. */
        private PreferenceLearner learner(NDManager manager, DpoSettings settings) {
            try (GptWeights sft = GptCheckpoint.load(policy, manager)) {
                return new PreferenceLearner(sft, manager, settings);
            }
        }

        /**
         * Writes the weights as {@code export} writes a run's policy (the tokenizer of {@code --policy}, a
         * generation_config.json of rlhf.experiment.sampling), through a scratch checkpoint that is deleted after.
         */
        private Path save(GptWeights weights, Config config, Path output) throws IOException {
            Path scratch = Files.createTempDirectory("rlhf-dpo-");
            try {
                GptCheckpoint.save(weights, scratch);
                return PolicyExport.write(scratch, policy, ExperimentSettings.from(config).sampling(), false,
                        output);
            } finally {
                try (Stream<Path> files = Files.walk(scratch)) {
                    for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
        }

        private static double seconds(long startNanos) {
            return (System.nanoTime() - startNanos) / 1e9;
        }

        private static void progress(PrintWriter err, EpochFigures e, DpoSettings settings) {
            String train = e.train() == null ? "" : String.format("train loss %.4f ", e.train().loss());
            err.printf("dpo train: epoch %d/%d %sheld-out loss %.4f reward accuracy %.4f margin %.4f (%.1f s)%n",
                    e.epoch(), settings.epochs(), train, e.heldOut().loss(), e.heldOut().accuracy(),
                    e.heldOut().margin(), e.seconds());
            err.flush();
        }

        /** dpo.json: what was trained on, with what settings, and every epoch's figures. */
        private String report(DpoSettings settings, PreferenceDataFile file, List<EpochFigures> epochs) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("algorithm", algorithm.name());
            json.put("policy", policy.toAbsolutePath().toString());
            json.put("data", file.file().toAbsolutePath().toString());
            json.put("format", file.formatName());
            Map<String, Object> used = new LinkedHashMap<>();
            used.put("beta", settings.beta());
            used.put("label_smoothing", settings.labelSmoothing());
            used.put("reduction", settings.reduction().name().toLowerCase(Locale.ROOT));
            used.put("learning_rate", settings.learningRate());
            used.put("batch_size", settings.batchSize());
            used.put("epochs", settings.epochs());
            used.put("seed", settings.seed());
            used.put("held_out_fraction", settings.heldOutFraction());
            json.put("settings", used);
            json.put("epochs", epochs.stream().map(EpochFigures::toJson).toList());
            return new GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create().toJson(json);
        }
    }

    /**
     * One epoch's figures.
     *
     * @param epoch 0 for the held-out pairs before training
     * @param train the training pass's statistics; null for epoch 0
     * @param heldOut the held-out pairs' statistics after the epoch
     * @param seconds the epoch's training and evaluation time (epoch 0: the evaluation's, with the reference
     *     log-probs of the held-out pairs)
     */
    private record EpochFigures(int epoch, PreferenceStats train, PreferenceStats heldOut, double seconds) {
        Map<String, Object> toJson() {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("epoch", epoch);
            if (train != null) {
                json.put("train_loss", train.loss());
                json.put("train_reward_accuracy", train.accuracy());
                json.put("train_reward_margin", train.margin());
                json.put("grad_norm", train.gradNorm());
            }
            json.put("held_out_loss", heldOut.loss());
            json.put("held_out_reward_accuracy", heldOut.accuracy());
            json.put("held_out_reward_margin", heldOut.margin());
            json.put("held_out_chosen_reward", heldOut.chosenReward());
            json.put("held_out_rejected_reward", heldOut.rejectedReward());
            json.put("seconds", seconds);
            return json;
        }
    }
}
