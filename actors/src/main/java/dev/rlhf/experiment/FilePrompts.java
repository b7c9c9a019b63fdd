package dev.rlhf.experiment;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.ToIntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The prompts of a task from a file ({@code rlhf.experiment.prompts}): those that fit the context, split with the
 * seed into prompts to train on and prompts held out for the before/after evaluation.
 */
public final class FilePrompts {
    private static final Logger LOG = LoggerFactory.getLogger(FilePrompts.class);

    private final List<String> training;
    private final List<String> heldOut;
    private final int skipped;

    private FilePrompts(List<String> training, List<String> heldOut, int skipped) {
        this.training = List.copyOf(training);
        this.heldOut = List.copyOf(heldOut);
        this.skipped = skipped;
    }

    /**
     * Reads {@code file} ({@link PromptFile}), skips the prompts longer than {@code maxPromptTokens} (logged with a
     * count: a prompt is never cut mid-token) and holds out {@code heldOutShare} of the rest, chosen with
     * {@code seed}.
     *
     * @param tokenCount the number of tokens the policy reads a prompt as
     * @throws PromptFileException if the file cannot be read, is malformed, or keeps too few prompts to split
     */
    public static FilePrompts load(Path file, ToIntFunction<String> tokenCount, int maxPromptTokens,
            double heldOutShare, long seed) {
        List<String> all = PromptFile.read(file);
        List<String> fitting = new ArrayList<>(all.size());
        String firstTooLong = null;
        for (String prompt : all) {
            if (tokenCount.applyAsInt(prompt) <= maxPromptTokens) {
                fitting.add(prompt);
            } else if (firstTooLong == null) {
                firstTooLong = prompt;
            }
        }
        int skipped = all.size() - fitting.size();
        if (skipped > 0) {
            LOG.warn("skipped {} of {} prompts of {}: longer than {} tokens (the context minus the new tokens), the "
                    + "first of them: \"{}\"", skipped, all.size(), file, maxPromptTokens, abbreviate(firstTooLong));
        }
        int heldOutCount = (int) Math.max(1, Math.round(fitting.size() * heldOutShare));
        if (fitting.size() - heldOutCount < 1) {
            throw new PromptFileException("prompt file " + file + " keeps " + fitting.size() + " prompts of at most "
                    + maxPromptTokens + " tokens (of " + all.size() + "): too few to hold out "
                    + heldOutCount + " for the evaluation and train on the rest");
        }
        List<Integer> order = new ArrayList<>(fitting.size());
        for (int i = 0; i < fitting.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        List<Integer> heldOutIndices = new ArrayList<>(order.subList(0, heldOutCount));
        Collections.sort(heldOutIndices); // evaluated in file order
        List<String> heldOut = heldOutIndices.stream().map(fitting::get).toList();
        List<String> training = order.subList(heldOutCount, order.size()).stream().sorted().map(fitting::get).toList();
        return new FilePrompts(training, heldOut, skipped);
    }

    /**
     * {@code count} training prompts for {@code seed}: a seeded permutation of them, repeated when {@code count}
     * exceeds their number.
     */
    public List<String> training(int count, long seed) {
        List<String> shuffled = new ArrayList<>(training);
        Collections.shuffle(shuffled, new Random(seed));
        List<String> drawn = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            drawn.add(shuffled.get(i % shuffled.size()));
        }
        return drawn;
    }

    /** The first {@code count} held-out prompts (all of them when there are fewer), whatever the seed. */
    public List<String> evaluation(int count, long seed) {
        return heldOut.subList(0, Math.min(count, heldOut.size()));
    }

    /** Prompts of the file skipped for their length. */
    public int skipped() {
        return skipped;
    }

    /** What the run uses of the file, for its log: prompts trained on, held out and skipped. */
    public String describe() {
        return training.size() + " prompts to train on, " + heldOut.size() + " held out for the evaluation, "
                + skipped + " skipped for their length";
    }

    private static String abbreviate(String text) {
        return text.length() <= 60 ? text : text.substring(0, 60) + "...";
    }
}
