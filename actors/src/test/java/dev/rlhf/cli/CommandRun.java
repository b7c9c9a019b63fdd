package dev.rlhf.cli;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import picocli.CommandLine;

/** One {@code rlhf} command run in this JVM: its exit code and what it printed on picocli's out and err. */
record CommandRun(int exitCode, String stdout, String stderr) {

    static CommandRun of(String... arguments) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = RlhfCli.commandLine();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(arguments);
        return new CommandRun(exitCode, out.toString(), err.toString());
    }

    List<String> lines() {
        return stdout.strip().lines().toList();
    }

    String lastLine() {
        List<String> lines = lines();
        return lines.get(lines.size() - 1);
    }

    JsonObject lastJson() {
        return JsonParser.parseString(lastLine()).getAsJsonObject();
    }
}
