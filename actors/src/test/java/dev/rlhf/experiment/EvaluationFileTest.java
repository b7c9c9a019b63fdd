package dev.rlhf.experiment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.generate.Completion;
import dev.rlhf.policy.generate.FinishReason;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EvaluationFileTest {

    @Test
    void writtenEvaluationReadsBackExactly(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(EvaluationFile.SFT);
        List<Completion> completions = List.of(
                new Completion(new int[] {5, 9, 2}, new float[] {-0.125f, -3.0000002f, -1e-7f}, FinishReason.EOS,
                        " great <b>\"film\"</b> ✓"),
                new Completion(new int[] {}, new float[] {}, FinishReason.LENGTH, ""));

        EvaluationFile.write(file, new EvaluationFile.Evaluation(List.of("Review: a", "Review: b"), completions));
        EvaluationFile.Evaluation read = EvaluationFile.read(file);

        assertEquals(List.of("Review: a", "Review: b"), read.prompts());
        for (int i = 0; i < completions.size(); i++) {
            assertArrayEquals(completions.get(i).tokenIds(), read.completions().get(i).tokenIds());
            assertArrayEquals(completions.get(i).logprobs(), read.completions().get(i).logprobs());
            assertEquals(completions.get(i).finishReason(), read.completions().get(i).finishReason());
            assertEquals(completions.get(i).text(), read.completions().get(i).text());
        }
    }

    @Test
    void fileThatIsNotAnEvaluationIsAClearError(@TempDir Path dir) throws IOException {
        Path file = dir.resolve(EvaluationFile.SFT);
        Files.writeString(file, "{\"prompts\": [\"a\"], \"completions\": []}");

        IOException e = assertThrows(IOException.class, () -> EvaluationFile.read(file));
        assertTrue(e.getMessage().contains("do not pair up"), e.getMessage());
    }
}
