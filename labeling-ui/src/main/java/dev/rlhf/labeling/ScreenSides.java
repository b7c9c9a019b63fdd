package dev.rlhf.labeling;

import dev.rlhf.proto.v1.Choice;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Which of a task's two candidates an annotator sees on the left (screen side A). Decided by a hash of
 * (annotator, task id), so a reload shows the same sides and different annotators see different orders, while
 * the store only ever hears the true candidate identity: candidate 0 against candidate 1.
 *
 * @param swapped whether candidate 1 is shown as A (and candidate 0 as B)
 */
record ScreenSides(boolean swapped) {

    /** The sides annotator {@code annotatorId} sees for task {@code taskId}. */
    static ScreenSides of(String annotatorId, String taskId) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(annotatorId.getBytes(StandardCharsets.UTF_8));
            sha.update((byte) 0);
            sha.update(taskId.getBytes(StandardCharsets.UTF_8));
            return new ScreenSides((sha.digest()[0] & 1) == 1);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    /** Index into the task's candidates of the response shown as A. */
    int candidateShownAsA() {
        return swapped ? 1 : 0;
    }

    /** Index into the task's candidates of the response shown as B. */
    int candidateShownAsB() {
        return swapped ? 0 : 1;
    }

    /** A choice made on screen, as a verdict on the true pair (candidate 0 as A, candidate 1 as B). */
    Choice toTrue(Choice onScreen) {
        return swapped ? mirror(onScreen) : onScreen;
    }

    /** A verdict on the true pair, as the annotator saw it on screen. */
    Choice toScreen(Choice onTruePair) {
        return swapped ? mirror(onTruePair) : onTruePair;
    }

    private static Choice mirror(Choice c) {
        return switch (c) {
            case CHOICE_A -> Choice.CHOICE_B;
            case CHOICE_B -> Choice.CHOICE_A;
            default -> c;
        };
    }
}
