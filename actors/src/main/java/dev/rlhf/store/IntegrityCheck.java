package dev.rlhf.store;

import dev.rlhf.proto.v1.Judgment;
import dev.rlhf.proto.v1.JudgmentSubmission;
import dev.rlhf.proto.v1.TaskProgress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Cross-checks records against their indexes within one snapshot: each judgment against its log
 * entry and the stored last sequence, and back; a standing judgment against its (task, annotator)
 * entry, which a retracted one must have given up; each retraction against its judgment; each
 * outstanding assignment against the judgments; each task's progress against the open-task index.
 */
final class IntegrityCheck {

    private final StoreReader reader;
    private final List<String> problems = new ArrayList<>();

    IntegrityCheck(StoreReader reader) {
        this.reader = reader;
    }

    List<String> problems() {
        byte[] last = reader.get(Column.METADATA, MetadataKey.LAST_JUDGMENT_SEQUENCE.key());
        long lastSequence = last == null ? 0 : Keys.toNumber(last);
        reader.scan(Column.JUDGMENTS, new byte[0], (key, value) -> {
            checkJudgment(key, reader.parse(Column.JUDGMENTS, key, value, Judgment.parser()), lastSequence);
            return true;
        });
        reader.scan(Column.JUDGMENT_LOG, new byte[0], (key, judgmentId) -> {
            long sequence = Keys.toNumber(key);
            var judgment = reader.get(Column.JUDGMENTS, judgmentId, Judgment.parser());
            if (judgment.isEmpty() || judgment.get().getSequence() != sequence) {
                problems.add("log entry #" + sequence + " names judgment " + Keys.printable(judgmentId)
                        + ", which is missing or has another sequence");
            }
            return true;
        });
        reader.scan(Column.TASK_JUDGMENTS, new byte[0], (key, judgmentId) -> {
            if (reader.get(Column.JUDGMENTS, judgmentId) == null) {
                problems.add("task/annotator entry " + Keys.printable(key) + " names missing judgment "
                        + Keys.printable(judgmentId));
            }
            return true;
        });
        reader.scan(Column.RETRACTIONS, new byte[0], (judgmentId, value) -> {
            if (reader.get(Column.JUDGMENTS, judgmentId) == null) {
                problems.add("retraction of missing judgment " + Keys.printable(judgmentId));
            }
            return true;
        });
        reader.scan(Column.ASSIGNMENTS, new byte[0], (key, value) -> {
            String taskId = Keys.pairSecond(key);
            String annotatorId = Keys.pairFirst(key);
            if (reader.get(Column.TASK_JUDGMENTS, Keys.pair(taskId, annotatorId)) != null) {
                problems.add("assignment of task " + taskId + " to " + annotatorId + " outlived its judgment");
            }
            return true;
        });
        reader.scan(Column.TASK_PROGRESS, new byte[0], (key, value) -> {
            TaskProgress progress = reader.parse(Column.TASK_PROGRESS, key, value, TaskProgress.parser());
            boolean indexed = reader.get(Column.OPEN_TASKS,
                    Keys.numbered(progress.getTaskNumber(), progress.getTaskId())) != null;
            if (indexed != TaskProgressUpdate.isOpen(progress)) {
                problems.add("task " + progress.getTaskId() + " is " + (indexed ? "" : "not ")
                        + "in the open-task index but needs " + (indexed ? "no" : "more") + " annotators");
            }
            if (reader.get(Column.TASKS, key) == null) {
                problems.add("progress record for missing task " + progress.getTaskId());
            }
            return true;
        });
        return problems;
    }

    private void checkJudgment(byte[] key, Judgment judgment, long lastSequence) {
        JudgmentSubmission s = judgment.getSubmission();
        String id = s.getJudgmentId();
        if (!Arrays.equals(key, Keys.id(id))) {
            problems.add("judgment stored under key " + Keys.printable(key) + " carries id " + id);
        }
        byte[] logged = reader.get(Column.JUDGMENT_LOG, Keys.number(judgment.getSequence()));
        if (logged == null || !Arrays.equals(logged, key)) {
            problems.add("judgment " + id + " (#" + judgment.getSequence() + ") has no matching log entry");
        }
        byte[] indexed = reader.get(Column.TASK_JUDGMENTS, Keys.pair(s.getTaskId(), s.getAnnotatorId()));
        boolean retracted = reader.get(Column.RETRACTIONS, key) != null;
        if (retracted && indexed != null && Arrays.equals(indexed, key)) {
            problems.add("retracted judgment " + id + " still holds its task/annotator entry");
        } else if (!retracted && (indexed == null || !Arrays.equals(indexed, key))) {
            problems.add("judgment " + id + " has no matching task/annotator entry");
        }
        if (judgment.getSequence() < 1 || judgment.getSequence() > lastSequence) {
            problems.add("judgment " + id + " has sequence " + judgment.getSequence()
                    + " outside 1.." + lastSequence);
        }
        if (reader.get(Column.TASKS, Keys.id(s.getTaskId())) == null) {
            problems.add("judgment " + id + " names missing task " + s.getTaskId());
        }
    }
}
