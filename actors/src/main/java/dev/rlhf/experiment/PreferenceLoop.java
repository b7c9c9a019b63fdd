package dev.rlhf.experiment;

import dev.rlhf.proto.v1.Adjudication;
import dev.rlhf.proto.v1.Candidate;
import dev.rlhf.proto.v1.Choice;
import dev.rlhf.proto.v1.ComparisonTask;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.Prompt;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotator;
import dev.rlhf.rewardmodel.annotators.SimulatedAnnotatorPanel;
import dev.rlhf.store.JudgmentAck;
import dev.rlhf.store.PreferenceStore;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Human judgment's path through the system, with simulated annotators standing in for people: comparison tasks
 * go into the preference store, each annotator asks the store for its next tasks and submits judgments of them
 * as the labeling UI or a gRPC client would, and the reward-model trainer reads judged comparisons back.
 *
 * <p>The store numbers judgments in the order it receives them, and reward models train in that order, so the
 * order here is part of an experiment's result: annotators take their turns in panel order, each judging every
 * task the store hands it oldest first, and the next one starts once those judgments are durable. Used by one
 * caller at a time.
 */
public final class PreferenceLoop {
    private final PreferenceStore store;
    private final SimulatedAnnotatorPanel panel;

    public PreferenceLoop(PreferenceStore store, SimulatedAnnotatorPanel panel) {
        this.store = store;
        this.panel = panel;
    }

    /**
     * Stores each comparison as a prompt and a two-candidate task; ids derive from {@code batchId}, so storing
     * the same batch twice (after a resume) is harmless. Queues the writes on the calling thread (after a point
     * read per comparison) and completes once all are durable, exceptionally if one fails.
     */
    public CompletableFuture<Void> submitAsync(String batchId, List<Comparison> comparisons, String policyVersion) {
        List<CompletableFuture<?>> writes = new ArrayList<>();
        for (int i = 0; i < comparisons.size(); i++) {
            Comparison c = comparisons.get(i);
            String id = taskId(batchId, i);
            if (store.task(id).isPresent()) {
                continue;
            }
            // thenCompose, not thenComposeAsync: each task is queued as its prompt becomes durable, by the store's
            // writer in prompt order, so the store numbers the tasks (the order annotators get them) in batch order
            writes.add(store.addPrompt(Prompt.newBuilder().setPromptId(id).setText(c.prompt()).build())
                    .thenCompose(prompt -> store.addTask(ComparisonTask.newBuilder()
                            .setTaskId(id)
                            .setPromptId(id)
                            .addCandidates(candidate(c.responseA(), policyVersion))
                            .addCandidates(candidate(c.responseB(), policyVersion))
                            .build())));
        }
        return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
    }

    /**
     * Lets every simulated annotator work through the tasks the store hands it: completes with the judgments made
     * once all are durable, exceptionally once a store call fails. Each annotator takes up to a group commit's worth of tasks in one store change and
     * sends all its judgments of them at once, so they share the store's synced writes. The annotator gets the
     * same tasks, and its judgments the same sequence numbers, as asking for one task at a time and waiting for
     * each judgment's ack would give. Prompt reads and judging run on {@code executor}, never on the store's
     * writer thread.
     */
    public CompletableFuture<Integer> labelAsync(Executor executor) {
        CompletableFuture<Integer> made = CompletableFuture.completedFuture(0);
        for (SimulatedAnnotator annotator : panel.annotators()) {
            // the next annotator's first assignment waits for this one's judgments to be durable
            made = made.thenCompose(before -> labelBy(annotator, executor).thenApply(now -> before + now));
        }
        return made;
    }

    /** One annotator's turn: rounds of (take up to a group's worth of tasks, judge them all) until none is left. */
    private CompletableFuture<Integer> labelBy(SimulatedAnnotator annotator, Executor executor) {
        int tasksPerRound = store.settings().groupCommitMaxBatch();
        return store.nextTasks(annotator.profile().id(), tasksPerRound).thenComposeAsync(tasks -> {
            CompletableFuture<Integer> judged = judgeAll(annotator, tasks);
            if (tasks.size() < tasksPerRound) {
                return judged; // the store had no more for this annotator, and judging opens none to it
            }
            return judged.thenCompose(made -> labelBy(annotator, executor).thenApply(more -> made + more));
        }, executor);
    }

    /** Judges {@code tasks} and sends the judgments without waiting in between; completes once all are durable. */
    private CompletableFuture<Integer> judgeAll(SimulatedAnnotator annotator, List<ComparisonTask> tasks) {
        List<JudgmentSubmission> submissions = new ArrayList<>(tasks.size());
        for (ComparisonTask task : tasks) {
            submissions.add(judge(annotator, task));
        }
        // queued from this one thread in task order, so the store numbers them in that order
        List<CompletableFuture<JudgmentAck>> acks = new ArrayList<>(submissions.size());
        for (JudgmentSubmission submission : submissions) {
            acks.add(store.submitJudgment(submission));
        }
        return CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).thenApply(done -> acks.size());
    }

    private JudgmentSubmission judge(SimulatedAnnotator annotator, ComparisonTask task) {
        String who = annotator.profile().id();
        Prompt prompt = store.prompt(task.getPromptId()).orElseThrow(() -> new IllegalStateException(
                "task " + task.getTaskId() + " names prompt " + task.getPromptId() + ", which is not stored"));
        // keyed by the task, so a resumed run judges a re-sent task as the first attempt did
        Judgment judgment = annotator.judge(new Comparison(prompt.getText(),
                task.getCandidates(0).getText(), task.getCandidates(1).getText()), task.getTaskId());
        JudgmentSubmission.Builder submission = JudgmentSubmission.newBuilder()
                .setJudgmentId(judgmentId(task.getTaskId(), who))
                .setTaskId(task.getTaskId())
                .setAnnotatorId(who)
                .setChoice(choice(judgment.verdict()))
                .setCandidateA(0)
                .setCandidateB(1);
        if (judgment.strength() > 0) {
            submission.setStrength(judgment.strength());
        }
        return submission.build();
    }

    /**
     * The newest sequence number among the judgments of the batch {@link #submitAsync} stored as {@code batchId}, or
     * -1 if it has none. Unlike the store's last sequence, this is the same whether the batch was judged just now
     * or before a resume, while later batches' judgments were already in the store.
     */
    public long newestJudgmentOf(String batchId, int comparisons) {
        long newest = -1;
        for (int i = 0; i < comparisons; i++) {
            for (SimulatedAnnotator annotator : panel.annotators()) {
                Optional<dev.rlhf.proto.v1.Judgment> judgment =
                        store.judgment(judgmentId(taskId(batchId, i), annotator.profile().id()));
                if (judgment.isPresent()) {
                    newest = Math.max(newest, judgment.get().getSequence());
                }
            }
        }
        return newest;
    }

    /**
     * Every training pair judged after sequence {@code afterSequence} up to {@code throughSequence}, with the
     * comparison it judged, in sequence order. Retracted and both-bad judgments are no training pairs and are left
     * out. For a task with an adjudication, the first of its judgments in the range carries the adjudication's
     * verdict (with the adjudicator as annotator, left out too when the verdict is both bad) and the task's other
     * judgments in the range are left out.
     */
    public List<JudgedComparison> judgedBetween(long afterSequence, long throughSequence) {
        List<JudgedComparison> judged = new ArrayList<>();
        Map<String, Comparison> comparisons = new HashMap<>();
        Map<String, Optional<Adjudication>> adjudications = new HashMap<>();
        Set<String> adjudicatedTasksSeen = new HashSet<>();
        long cursor = afterSequence;
        while (true) {
            List<dev.rlhf.proto.v1.Judgment> page = store.judgmentsSince(cursor, 1024);
            if (page.isEmpty()) {
                return judged;
            }
            for (dev.rlhf.proto.v1.Judgment stored : page) {
                if (stored.getSequence() > throughSequence) {
                    return judged;
                }
                cursor = stored.getSequence();
                JudgmentSubmission s = stored.getSubmission();
                if (store.retraction(s.getJudgmentId()).isPresent()) {
                    continue;
                }
                Optional<Adjudication> adjudication =
                        adjudications.computeIfAbsent(s.getTaskId(), store::adjudication);
                if (adjudication.isPresent() && !adjudicatedTasksSeen.add(s.getTaskId())) {
                    continue;
                }
                Judgment judgment = adjudication.map(PreferenceLoop::adjudicated).orElseGet(() -> judgment(s));
                if (judgment == null) {
                    continue;
                }
                Comparison comparison = comparisons.computeIfAbsent(s.getTaskId(), this::comparisonOf);
                judged.add(new JudgedComparison(stored.getSequence(), comparison, judgment));
            }
        }
    }

    /** An annotator's judgment as a training label; null for both bad, which is no training pair. */
    private static Judgment judgment(JudgmentSubmission s) {
        if (s.getChoice() == Choice.CHOICE_BOTH_BAD) {
            return null;
        }
        Verdict verdict = verdict(s.getChoice());
        int strength = verdict == Verdict.A || verdict == Verdict.B ? Math.max(1, s.getStrength()) : 0;
        return new Judgment(s.getAnnotatorId(), verdict, strength);
    }

    /**
     * An adjudication as the label of candidates (0, 1), A and B swapped when it names the pair the other way round;
     * null for both bad.
     */
    private static Judgment adjudicated(Adjudication adjudication) {
        if (adjudication.getChoice() == Choice.CHOICE_BOTH_BAD) {
            return null;
        }
        Verdict verdict = verdict(adjudication.getChoice());
        if (adjudication.getCandidateA() > adjudication.getCandidateB()) {
            verdict = verdict == Verdict.A ? Verdict.B : verdict == Verdict.B ? Verdict.A : verdict;
        }
        return new Judgment(adjudication.getAdjudicator(), verdict, verdict == Verdict.TIE ? 0 : 1);
    }

    private Comparison comparisonOf(String taskId) {
        ComparisonTask task = store.task(taskId).orElseThrow();
        Prompt prompt = store.prompt(task.getPromptId()).orElseThrow();
        return new Comparison(prompt.getText(), task.getCandidates(0).getText(), task.getCandidates(1).getText());
    }

    private static String taskId(String batchId, int index) {
        return batchId + "-" + index;
    }

    private static String judgmentId(String taskId, String annotatorId) {
        return taskId + "/" + annotatorId;
    }

    private static Candidate candidate(String text, String policyVersion) {
        return Candidate.newBuilder().setText(text).setPolicyVersion(policyVersion).build();
    }

    private static Choice choice(Verdict verdict) {
        return switch (verdict) {
            case A -> Choice.CHOICE_A;
            case B -> Choice.CHOICE_B;
            case TIE -> Choice.CHOICE_TIE;
            case SKIP -> Choice.CHOICE_SKIP;
        };
    }

    private static Verdict verdict(Choice choice) {
        return switch (choice) {
            case CHOICE_A -> Verdict.A;
            case CHOICE_B -> Verdict.B;
            case CHOICE_TIE -> Verdict.TIE;
            case CHOICE_SKIP -> Verdict.SKIP;
            default -> throw new IllegalStateException("stored judgment has choice " + choice);
        };
    }
}
