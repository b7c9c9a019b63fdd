package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.rlhf.policy.tokenizer.TextTokenizer;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreferenceExamplesTest {

    @Test
    void judgmentsOfOneComparisonBecomeTheVotesOfOnePairOrientedByTheMajority(@TempDir Path dir) throws Exception {
        Comparison first = new Comparison("The hotel?", " It was lovely.", " It was dirty.");
        Comparison second = new Comparison("The cafe?", " Cold coffee.", " Great cake.");
        List<JudgedComparison> judged = List.of(
                new JudgedComparison(0, first, new Judgment("a", Verdict.A, 3)),
                new JudgedComparison(1, second, new Judgment("a", Verdict.B, 1)),
                new JudgedComparison(2, first, new Judgment("b", Verdict.B, 1)),
                new JudgedComparison(3, first, new Judgment("c", Verdict.A, 2)),
                new JudgedComparison(4, second, new Judgment("b", Verdict.TIE, 0)),
                new JudgedComparison(5, new Comparison("The bar?", " Fine.", " Fine!"),
                        new Judgment("c", Verdict.SKIP, 0)));

        try (TextTokenizer tokenizer = TextTokenizer.load(TinyRewardModels.tokenizerDir(dir))) {
            SequenceEncoder encoder = new SequenceEncoder(tokenizer, TinyRewardModels.CONTEXT);

            List<PreferenceExample> examples = PreferenceExamples.from(judged, encoder);

            assertEquals(2, examples.size(), "one pair per comparison with an ordered judgment");
            PreferenceExample hotel = examples.get(0);
            assertArrayEquals(encoder.encode("The hotel?", " It was lovely."), hotel.chosen(), "two of three chose A");
            assertEquals(List.of(new PreferenceExample.Vote(true, 3), new PreferenceExample.Vote(false, 1),
                    new PreferenceExample.Vote(true, 2)), hotel.votes(), "every ordered judgment, in order");
            PreferenceExample cafe = examples.get(1);
            assertArrayEquals(encoder.encode("The cafe?", " Great cake."), cafe.chosen(), "B won the cafe");
            assertEquals(List.of(new PreferenceExample.Vote(true, 1)), cafe.votes(), "the tie is no vote");
        }
    }
}
