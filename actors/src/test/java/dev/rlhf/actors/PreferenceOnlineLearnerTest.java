package dev.rlhf.actors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.align.PreferencePair;
import dev.rlhf.policy.tokenizer.ByteLevelBpeTrainer;
import dev.rlhf.policy.tokenizer.TextTokenizer;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceOnlineLearnerTest {

    @Test
    void judgmentsBecomePairsWhoseResponsesFitBesideTheLongestPrompt(@TempDir Path dir) throws Exception {
        try (TextTokenizer tokenizer = TextTokenizer.load(new ByteLevelBpeTrainer(260)
                .train(List.of("The room was nice.", "The staff was rude.")).writeTokenizerJson(dir))) {
            Comparison shortPrompt = new Comparison("Room?", " The room was nice and the staff was rude.", " Rude.");
            Comparison longPrompt = new Comparison("The staff and the room?", " Nice.", " Rude staff.");
            List<JudgedComparison> judged = List.of(
                    new JudgedComparison(0, shortPrompt, new Judgment("a", Verdict.B, 1)),
                    new JudgedComparison(1, longPrompt, new Judgment("a", Verdict.TIE, 0)),
                    new JudgedComparison(2, longPrompt, new Judgment("b", Verdict.A, 1)));
            int longest = tokenizer.encode(longPrompt.prompt()).length;
            int context = longest + 8;

            List<PreferencePair> pairs = PreferenceOnlineLearner.pairs(judged, tokenizer, context);

            assertEquals(2, pairs.size(), "the tie is no pair");
            assertArrayEquals(tokenizer.encode(" Rude."), pairs.get(0).chosen(), "B was preferred");
            int[] cut = tokenizer.encode(shortPrompt.responseA());
            assertTrue(cut.length > 8, "the long response needs cutting: " + cut.length);
            assertArrayEquals(Arrays.copyOf(cut, 8), pairs.get(0).rejected(),
                    "cut to the context less the longest prompt, so a batch of both pairs fits");
            assertArrayEquals(tokenizer.encode(" Nice."), pairs.get(1).chosen());
        }
    }
}
