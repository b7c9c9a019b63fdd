package dev.rlhf.store;

/** The column families of the preference store, one per record kind or index; names are stable on disk. */
enum Column {
    /** promptId → {@code Prompt}. */
    PROMPTS("prompts"),
    /** taskId → {@code ComparisonTask}. */
    TASKS("tasks"),
    /** taskId → {@code TaskProgress}: who has seen the task and how many more it needs. */
    TASK_PROGRESS("task_progress"),
    /** taskNumber ++ taskId → empty: tasks that still need annotators, oldest first. */
    OPEN_TASKS("open_tasks"),
    /** annotatorId NUL taskId → {@code Assignment}: tasks handed out and not yet judged. */
    ASSIGNMENTS("assignments"),
    /** judgmentId → {@code Judgment}. */
    JUDGMENTS("judgments"),
    /** sequence → judgmentId: the judgment log in acknowledgement order. */
    JUDGMENT_LOG("judgment_log"),
    /** taskId NUL annotatorId → judgmentId: at most one judgment per annotator and task. */
    TASK_JUDGMENTS("task_judgments"),
    /** Named values: schema version and counters (see {@link MetadataKey}). */
    METADATA("metadata");

    private final String familyName;

    Column(String familyName) {
        this.familyName = familyName;
    }

    /** The RocksDB column family name. */
    String familyName() {
        return familyName;
    }
}
