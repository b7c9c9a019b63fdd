package dev.rlhf.store;

import dev.rlhf.proto.v1.Choice;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child-process writer for {@link CrashDurabilityTest}: opens the store at {@code args[0]}, prints
 * {@code READY}, then {@code args[1]} threads each endlessly add a task and judge it, printing
 * {@code ACK <judgmentId> <sequence>} only after the judgment's ack. Runs until killed.
 */
public final class JudgmentWriterProcess {

    private JudgmentWriterProcess() {}

    public static void main(String[] args) throws InterruptedException {
        Path path = Path.of(args[0]);
        int threads = Integer.parseInt(args[1]);
        PrintStream out = System.out;
        PreferenceStore store = PreferenceStore.open(StoreFixture.settings(path.getParent()).withPath(path));
        store.addPrompt(StoreFixture.prompt("p", "Describe the sea.")).join();
        out.println("READY");
        out.flush();
        for (int t = 0; t < threads; t++) {
            String writer = "w" + t;
            Thread thread = new Thread(() -> {
                for (long i = 0; ; i++) {
                    String taskId = writer + "-t" + i;
                    store.addTask(StoreFixture.task(taskId, "p", "Blue and wide " + i, "Wet " + i)).join();
                    JudgmentAck ack = store.submitJudgment(StoreFixture.judgment(writer + "-j" + i, taskId, writer,
                            i % 2 == 0 ? Choice.CHOICE_A : Choice.CHOICE_B).toBuilder()
                            .setStrength(1 + (int) (i % 3)).setRationale("because " + i).build()).join();
                    synchronized (out) {
                        out.println("ACK " + ack.judgmentId() + " " + ack.sequence());
                        out.flush();
                    }
                }
            }, "writer-" + t);
            thread.start();
        }
        Thread.currentThread().join();
    }
}
