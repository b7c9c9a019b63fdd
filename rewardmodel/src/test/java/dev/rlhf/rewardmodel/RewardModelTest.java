package dev.rlhf.rewardmodel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

class RewardModelTest {

    @Test
    void rightPaddedBatchScoresEachSequenceAsItScoresAlone() {
        List<int[]> sequences = List.of(
                new int[] {5, 9, 2},
                new int[] {7, 1, 3, 3, 8, 4, 6},
                new int[] {11, 12, 13, 14, 15});
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = TinyRewardModels.withRandomHead(TinyRewardModels.config(32), manager, 3)) {
            float[] batched = model.score(sequences, 3);
            for (int i = 0; i < sequences.size(); i++) {
                float alone = model.score(List.of(sequences.get(i)), 1)[0];
                assertEquals(alone, batched[i], 1e-5,
                        "sequence " + i + " padded to 7 tokens must score as it does unpadded");
            }
            assertEquals(3, java.util.Set.of(batched[0], batched[1], batched[2]).size(),
                    "distinct sequences get distinct scores");
        }
    }

    @Test
    void scoreIsReadAtTheLastRealTokenWhereverThePaddingSits() {
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = TinyRewardModels.withRandomHead(TinyRewardModels.config(32), manager, 4)) {
            float alone = model.score(List.of(new int[] {4, 8, 15}), 1)[0];
            try (NDManager step = manager.newSubManager()) {
                // left padding: positions count real tokens only, so the last real token sees the same context
                float leftPadded = model.scores(step.create(new long[] {0, 0, 4, 8, 15}, new Shape(1, 5)),
                        step.create(new long[] {0, 0, 1, 1, 1}, new Shape(1, 5))).getFloat(0);
                assertEquals(alone, leftPadded, 1e-5, "left-padded sequence scores as it does alone");
            }
        }
    }

    @Test
    void rowWithoutRealTokensIsRejected() {
        try (NDManager manager = NDManager.newBaseManager();
                RewardModel model = RewardModel.random(TinyRewardModels.config(32), manager, 5)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.scores(manager.create(new long[] {1, 2, 3, 4}, new Shape(2, 2)),
                            manager.create(new long[] {1, 1, 0, 0}, new Shape(2, 2))));
            assertEquals("row 1 of the batch has no real token", e.getMessage());
        }
    }
}
