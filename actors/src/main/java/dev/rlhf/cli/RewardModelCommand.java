package dev.rlhf.cli;

import static dev.rlhf.cli.OfflineTraining.requireOption;

import ai.djl.ndarray.NDManager;
import com.typesafe.config.Config;
import dev.rlhf.policy.bootstrap.PromptResponse;
import dev.rlhf.policy.checkpoint.GptCheckpoint;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.EpochReport;
import dev.rlhf.rewardmodel.PairEvaluation;
import dev.rlhf.rewardmodel.RewardModel;
import dev.rlhf.rewardmodel.RewardModelCheckpoint;
import dev.rlhf.rewardmodel.RewardModelInfo;
import dev.rlhf.rewardmodel.RewardModelTrainer;
import dev.rlhf.rewardmodel.RewardNormalizer;
import dev.rlhf.rewardmodel.RewardScorer;
import dev.rlhf.rewardmodel.RewardTrainingSettings;
import dev.rlhf.rewardmodel.SequenceEncoder;
import dev.rlhf.rewardmodel.TrainingResult;
import dev.rlhf.store.PreferencePair;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rlhf rm}: reward models from a team's own preference data. */
@Command(name = "rm", mixinStandardHelpOptions = true,
        footer = {"", "Examples:",
            "  ./rlhf rm train --base models/gpt2 --data prefs.jsonl",
            "  ./rlhf rm eval --reward-model reward-models/prefs --data test.jsonl"},
        description = "Train a reward model on preference pairs (TRL or HH-RLHF JSONL), or evaluate one.",
        subcommands = {RewardModelCommand.Train.class, RewardModelCommand.Eval.class})
final class RewardModelCommand implements Runnable {
    /** Responses the score normaliser is fitted on, at most. */
    private static final int NORMALIZER_SAMPLE = 2048;

    @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code rlhf rm train}: Bradley-Terry training from a checkpoint's trunk; one JSON object last on stdout. */
    @Command(name = "train", mixinStandardHelpOptions = true,
            footer = {"", "Examples:",
                "  ./rlhf rm train --base models/gpt2 --data prefs.jsonl",
                "  ./rlhf rm train --base sft --data hh.jsonl --format hh --out rm/hh",
                "  ./rlhf rm train --base sft --data p.jsonl --held-out 0.2 --epochs 8"},
            description = "Train a reward model (the base checkpoint's transformer trunk and a scalar head) on the"
                    + " file's preference pairs with the Bradley-Terry loss, holding out a seeded share of the pairs"
                    + " and stopping early when their loss stops improving (the best epoch's weights are kept)."
                    + " The checkpoint's own tokenizer.json tokenizes. Every line is checked first: a malformed one"
                    + " is reported by file, line and field and nothing is trained. Progress goes to stderr, one"
                    + " line per epoch; the last line on stdout is one JSON object (held_out_accuracy,"
                    + " held_out_loss, pairs_train, pairs_held_out, output, ...). The output is a reward-model"
                    + " checkpoint as an experiment writes one, which `serve --reward-model` reads.")
    static final class Train implements Callable<Integer> {
        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

        @Option(names = "--base", required = true, paramLabel = "CHECKPOINT",
                description = "HF GPT-2 checkpoint (config.json, model.safetensors, tokenizer.json) whose trunk"
                        + " starts the reward model.")
        private Path base;

        @Mixin private PreferenceFileOptions preferences;

        @Option(names = "--out", paramLabel = "DIR",
                description = "Where the reward model goes; must not exist or be empty (default:"
                        + " reward-models/<data file name without extension>).")
        private Path out;

        @Option(names = "--held-out", paramLabel = "SHARE",
                description = "Share of the pairs held out (default rlhf.reward-model.held-out-fraction, 0.1).")
        private Double heldOut;

        @Option(names = "--seed", description = "Seeds the split and the order of pairs (default"
                + " rlhf.reward-model.seed).")
        private Long seed;

        @Option(names = "--epochs", paramLabel = "N", description = "Most epochs (default"
                + " rlhf.reward-model.max-epochs).")
        private Integer epochs;

        @Option(names = "--patience", paramLabel = "N", description = "Epochs without a lower held-out loss"
                + " before stopping (default rlhf.reward-model.patience).")
        private Integer patience;

        @Option(names = "--learning-rate", paramLabel = "LR", description = "AdamW step size (default"
                + " rlhf.reward-model.learning-rate).")
        private Float learningRate;

        @Option(names = "--batch-size", paramLabel = "PAIRS", description = "Pairs per step (default"
                + " rlhf.reward-model.batch-size).")
        private Integer batchSize;

        @Override
        public Integer call() throws Exception {
            CliContext context = CliContext.load();
            RewardTrainingSettings settings = settings(context.config());
            OfflineTraining.requireCheckpoint("--base", base);
            Path output = out != null ? out : Path.of("reward-models", OfflineTraining.stem(preferences.data()));
            OfflineTraining.requireEmptyOrAbsent(output);
            PreferenceDataFile file = preferences.read();
            PrintWriter err = spec.commandLine().getErr();
            try (NDManager manager = context.newManager();
                    TextTokenizer tokenizer = TextTokenizer.load(base);
                    RewardModel model = RewardModel.initialise(GptCheckpoint.load(base, manager))) {
                SequenceEncoder encoder = new SequenceEncoder(tokenizer, model.config().contextLength());
                PreferenceDataFile.Encoded encoded = file.encode(encoder);
                if (encoded.skipped() > 0) {
                    err.printf("rm train: skipped %d of %d pairs of %s: empty or longer than the context of %d"
                            + " tokens%n", encoded.skipped(), file.pairs().size(), file.file(),
                            model.config().contextLength());
                }
                err.printf("rm train: %d pairs of %s (%s), base %s, up to %d epochs%n", encoded.examples().size(),
                        file.file(), file.formatName(), base, settings.maxEpochs());
                TrainingResult result;
                try (AutoCloseable quiet = ConsoleLogFilter.quiet(CliErrors.verbose(spec.commandLine().getParseResult()));
                        RewardModelTrainer trainer = new RewardModelTrainer(model, settings)) {
                    result = trainer.fit(encoded.examples(), report -> progress(err, report, settings));
                }
                err.printf("rm train: best epoch %d of %d; saving to %s%n", result.bestEpoch(),
                        result.epochs().size(), output);
                RewardScorer raw = new RewardScorer(model, encoder, RewardNormalizer.IDENTITY,
                        settings.scoreBatchSize());
                RewardScorer scorer = raw.withNormalizer(raw.fitNormalizer(normalizerSample(file.pairs())));
                Map<String, Double> metrics = new LinkedHashMap<>();
                metrics.put("held_out_accuracy", result.best().heldOutAccuracy());
                metrics.put("held_out_loss", result.best().heldOutLoss());
                metrics.put("pairs_train", (double) result.trainPairs());
                metrics.put("pairs_held_out", (double) result.heldOutPairs());
                RewardModelInfo info = new RewardModelInfo(1, -1, scorer.normalizer(), metrics, result.epochs());
                RewardModelCheckpoint.save(model, info, base, output);

                Map<String, Object> json = new LinkedHashMap<>();
                json.put("held_out_accuracy", result.best().heldOutAccuracy());
                json.put("held_out_loss", result.best().heldOutLoss());
                json.put("pairs_train", result.trainPairs());
                json.put("pairs_held_out", result.heldOutPairs());
                json.put("pairs_skipped", encoded.skipped());
                json.put("best_epoch", result.bestEpoch());
                json.put("epochs", result.epochs().size());
                json.put("format", file.formatName());
                json.put("output", output.toAbsolutePath().toString());
                OfflineTraining.printJson(spec, json);
            }
            return 0;
        }

        /** The {@code rlhf.reward-model} settings with the options given; a bad option is named as typed. */
        private RewardTrainingSettings settings(Config config) {
            RewardTrainingSettings d = RewardTrainingSettings.from(config);
            requireOption(heldOut == null || heldOut > 0 && heldOut < 1, "--held-out must be in (0, 1)", heldOut);
            requireOption(epochs == null || epochs > 0, "--epochs must be positive", epochs);
            requireOption(patience == null || patience > 0, "--patience must be positive", patience);
            requireOption(batchSize == null || batchSize > 0, "--batch-size must be positive", batchSize);
            requireOption(learningRate == null || learningRate > 0, "--learning-rate must be positive", learningRate);
            return new RewardTrainingSettings(
                    seed != null ? seed : d.seed(),
                    learningRate != null ? learningRate : d.learningRate(),
                    d.warmupSteps(), d.weightDecay(), d.maxGradNorm(),
                    batchSize != null ? batchSize : d.batchSize(),
                    epochs != null ? epochs : d.maxEpochs(),
                    patience != null ? patience : d.patience(),
                    heldOut != null ? heldOut : d.heldOutFraction(),
                    d.marginPerStrength(), d.scoreBatchSize(), d.replicas());
        }

        private static void progress(PrintWriter err, EpochReport r, RewardTrainingSettings settings) {
            err.printf("rm train: epoch %d/%d train loss %.4f held-out loss %.4f accuracy %.4f (%.1f s)%n",
                    r.epoch(), settings.maxEpochs(), r.trainLoss(), r.heldOutLoss(), r.heldOutAccuracy(), r.seconds());
            err.flush();
        }

        /** Both responses of an evenly spaced sample of the pairs: what the scores are normalised over. */
        private static List<PromptResponse> normalizerSample(List<PreferencePair> pairs) {
            int stride = Math.max(1, pairs.size() * 2 / NORMALIZER_SAMPLE);
            List<PromptResponse> sample = new ArrayList<>();
            for (int i = 0; i < pairs.size(); i += stride) {
                sample.add(new PromptResponse(pairs.get(i).prompt(), pairs.get(i).chosen()));
                sample.add(new PromptResponse(pairs.get(i).prompt(), pairs.get(i).rejected()));
            }
            return sample;
        }
    }

    /** {@code rlhf rm eval}: one JSON object with a reward model's accuracy and loss on a file of pairs. */
    @Command(name = "eval", mixinStandardHelpOptions = true,
            footer = {"", "Examples:",
                "  ./rlhf rm eval --reward-model reward-models/prefs --data test.jsonl",
                "  ./rlhf rm eval --reward-model runs/q1/reward-models --data hh.jsonl"},
            description = "Score every pair of the file with a reward model and print one JSON object: accuracy"
                    + " (share of pairs whose chosen response scores strictly higher), loss (mean Bradley-Terry"
                    + " loss), pairs, pairs_skipped (empty or longer than the context). A directory of versions"
                    + " (v0001, ...) means its latest complete one.")
    static final class Eval implements Callable<Integer> {
        @CommandLine.Spec private CommandLine.Model.CommandSpec spec;

        @Option(names = "--reward-model", required = true, paramLabel = "DIR",
                description = "A reward-model checkpoint, or a directory of versions.")
        private Path rewardModel;

        @Mixin private PreferenceFileOptions preferences;

        @Override
        public Integer call() throws Exception {
            CliContext context = CliContext.load();
            RewardTrainingSettings settings = RewardTrainingSettings.from(context.config());
            Path dir = checkpoint(rewardModel);
            PreferenceDataFile file = preferences.read();
            try (NDManager manager = context.newManager();
                    RewardModelCheckpoint.Loaded loaded = RewardModelCheckpoint.load(dir, manager)) {
                SequenceEncoder encoder = new SequenceEncoder(loaded.tokenizer(), loaded.model().config()
                        .contextLength());
                PreferenceDataFile.Encoded encoded = file.encode(encoder);
                PairEvaluation evaluation = RewardModelTrainer.evaluate(loaded.model(), encoded.examples(), settings);
                Map<String, Object> json = new LinkedHashMap<>();
                json.put("accuracy", evaluation.accuracy());
                json.put("loss", evaluation.loss());
                json.put("pairs", evaluation.pairs());
                json.put("pairs_skipped", encoded.skipped());
                json.put("format", file.formatName());
                json.put("reward_model", dir.toAbsolutePath().toString());
                OfflineTraining.printJson(spec, json);
            }
            return 0;
        }

        /** {@code dir} when it is a checkpoint, else the latest complete version under it. */
        private static Path checkpoint(Path dir) throws IOException {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("--reward-model " + dir + " is not a directory");
            }
            if (Files.isRegularFile(dir.resolve(RewardModelInfo.FILE_NAME))) {
                return dir;
            }
            return RewardModelCheckpoint.latest(dir).orElseThrow(() -> new CheckpointException(
                    "--reward-model " + dir + " is not a reward model: no " + RewardModelInfo.FILE_NAME));
        }
    }
}
