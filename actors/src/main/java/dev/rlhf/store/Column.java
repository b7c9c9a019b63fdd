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
    METADATA("metadata"),
    /** name → {@code Annotator}: registered annotators, revoked ones included (since schema version 2). */
    ANNOTATORS("annotators"),
    /** SHA-256 of a valid token → annotator name; a revoked annotator's entry is removed (since version 2). */
    ANNOTATOR_TOKENS("annotator_tokens"),
    /** judgmentId → {@code Retraction}: judgments taken back by their annotator (since version 2). */
    RETRACTIONS("retractions"),
    /** taskId → {@code Adjudication}: an admin's verdict on the task, the latest one (since version 2). */
    ADJUDICATIONS("adjudications");

    private final String familyName;

    Column(String familyName) {
        this.familyName = familyName;
    }

    /** The RocksDB column family name. */
    String familyName() {
        return familyName;
    }
}
