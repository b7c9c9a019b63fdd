package dev.rlhf.experiment;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import dev.rlhf.rewardmodel.annotators.AnnotatorPanelSettings;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.PreferenceStore;
import dev.rlhf.store.PreferenceStoreSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What human labeling changes in the training pairs: retracted and both-bad judgments drop, adjudications rule. */
class PreferenceLoopLabelingTest {

    @TempDir Path dir;
    private PreferenceStore store;
    private PreferenceLoop loop;

    @BeforeEach
    void open() {
        store = PreferenceStore.open(new PreferenceStoreSettings(dir.resolve("db"), 3, 256, 3, 64, 1024,
                Duration.ofMinutes(30)));
        loop = new PreferenceLoop(store, new SimulatedAnnotatorPanel(AnnotatorPanelSettings.from(ConfigFactory.load())));
        store.addPrompt(Prompt.newBuilder().setPromptId("p").setText("Greet.").build()).join();
        for (String taskId : List.of("t1", "t2")) {
            store.addTask(ComparisonTask.newBuilder().setTaskId(taskId).setPromptId("p")
                    .addCandidates(Candidate.newBuilder().setText("Hello."))
                    .addCandidates(Candidate.newBuilder().setText("Go away."))
                    .build()).join();
        }
    }

    @AfterEach
    void close() {
        store.close();
    }

    private void judge(String id, String taskId, String annotator, Choice choice) {
        store.submitJudgment(JudgmentSubmission.newBuilder().setJudgmentId(id).setTaskId(taskId)
                .setAnnotatorId(annotator).setChoice(choice).build()).join();
    }

    @Test
    void retractedAndBothBadJudgmentsAreNoTrainingPairs() {
        judge("j1", "t1", "alice", Choice.CHOICE_A);
        judge("j2", "t1", "bob", Choice.CHOICE_BOTH_BAD);
        judge("j3", "t1", "carol", Choice.CHOICE_B);
        store.retractJudgment("j3", "carol").join();

        List<JudgedComparison> judged = loop.judgedBetween(0, Long.MAX_VALUE);

        assertEquals(List.of(1L), judged.stream().map(JudgedComparison::sequence).toList());
        assertEquals(new Judgment("alice", Verdict.A, 1), judged.get(0).judgment());
    }

    @Test
    void anAdjudicatedTaskTrainsOnceOnTheVerdictAtItsFirstJudgment() {
        judge("j1", "t1", "alice", Choice.CHOICE_A);
        judge("j2", "t2", "alice", Choice.CHOICE_A);
        judge("j3", "t1", "bob", Choice.CHOICE_B);
        store.adjudicate(Adjudication.newBuilder().setTaskId("t1").setAdjudicator("root")
                .setChoice(Choice.CHOICE_A).setCandidateA(1).setCandidateB(0).build()).join();

        List<JudgedComparison> judged = loop.judgedBetween(0, Long.MAX_VALUE);
        List<JudgedComparison> fromSecond = loop.judgedBetween(1, Long.MAX_VALUE);

        assertEquals(List.of(1L, 2L), judged.stream().map(JudgedComparison::sequence).toList());
        assertEquals(new Judgment("root", Verdict.B, 1), judged.get(0).judgment(),
                "A over the pair (1, 0) is the second candidate of the comparison");
        assertEquals("Hello.", judged.get(0).comparison().responseA());
        assertEquals(new Judgment("alice", Verdict.A, 1), judged.get(1).judgment());
        assertEquals(List.of(2L, 3L), fromSecond.stream().map(JudgedComparison::sequence).toList(),
                "within a range, the first of the task's judgments there carries the verdict");
        assertEquals("root", fromSecond.get(1).judgment().annotatorId());
    }
}
