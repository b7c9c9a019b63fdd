package dev.rlhf.labeling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.proto.v1.Choice;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class ScreenSidesTest {

    @Test
    void sidesAreTheSameOnEveryCallForOneAnnotatorAndTask() {
        for (int i = 0; i < 50; i++) {
            assertEquals(ScreenSides.of("ann", "task-" + i), ScreenSides.of("ann", "task-" + i),
                    "a reload must show task-" + i + " with the same sides");
        }
    }

    @Test
    void sidesVaryAcrossTasksAndAnnotators() {
        int swapped = 0;
        int differsBetweenAnnotators = 0;
        for (int i = 0; i < 200; i++) {
            if (ScreenSides.of("ann", "task-" + i).swapped()) {
                swapped++;
            }
            if (ScreenSides.of("ann", "task-" + i).swapped() != ScreenSides.of("bob", "task-" + i).swapped()) {
                differsBetweenAnnotators++;
            }
        }
        assertTrue(swapped > 60 && swapped < 140, "about half of 200 tasks should be swapped but " + swapped + " were");
        assertTrue(differsBetweenAnnotators > 60, "two annotators should often see different orders, but only "
                + differsBetweenAnnotators + " of 200 differed");
    }

    @Test
    void aSwappedScreenChoiceOfAMeansTheSecondCandidate() {
        ScreenSides swapped = new ScreenSides(true);
        assertEquals(1, swapped.candidateShownAsA());
        assertEquals(0, swapped.candidateShownAsB());
        assertEquals(Choice.CHOICE_B, swapped.toTrue(Choice.CHOICE_A), "A on screen is candidate 1: B of the true pair");
        assertEquals(Choice.CHOICE_A, swapped.toTrue(Choice.CHOICE_B));
        for (Choice c : EnumSet.of(Choice.CHOICE_TIE, Choice.CHOICE_BOTH_BAD, Choice.CHOICE_SKIP)) {
            assertEquals(c, swapped.toTrue(c), c + " does not depend on the sides");
        }
    }

    @Test
    void unswappedSidesKeepTheChoiceAndBothWaysRoundTrip() {
        ScreenSides plain = new ScreenSides(false);
        assertEquals(0, plain.candidateShownAsA());
        for (Choice c : EnumSet.of(Choice.CHOICE_A, Choice.CHOICE_B, Choice.CHOICE_TIE, Choice.CHOICE_BOTH_BAD,
                Choice.CHOICE_SKIP)) {
            assertEquals(c, plain.toTrue(c));
            for (boolean s : new boolean[] {false, true}) {
                ScreenSides sides = new ScreenSides(s);
                assertEquals(c, sides.toScreen(sides.toTrue(c)), "screen -> true -> screen must give back " + c);
            }
        }
    }

    @Test
    void theTrueCandidateOfTheChosenScreenSideIsRecorded() {
        // whichever side the annotator saw candidate 1 on, choosing it records CHOICE_B over (0, 1)
        for (int i = 0; i < 20; i++) {
            ScreenSides sides = ScreenSides.of("ann", "t" + i);
            Choice screenSideOfCandidate1 = sides.candidateShownAsA() == 1 ? Choice.CHOICE_A : Choice.CHOICE_B;
            assertEquals(Choice.CHOICE_B, sides.toTrue(screenSideOfCandidate1), "task t" + i);
        }
    }
}
