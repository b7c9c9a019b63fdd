package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Every command's help ends with examples of itself, and {@code --version} names the build's commit. */
class CommandLineHelpTest {

    @Test
    void everyCommandsHelpEndsWithExamplesOfThatCommand() {
        List<CommandLine> commands = new ArrayList<>();
        collect(RlhfCli.commandLine(), commands);
        assertTrue(commands.size() > 10, "every command: " + commands.size());

        for (CommandLine command : commands) {
            String usage = command.getUsageMessage();
            int examples = usage.lastIndexOf("Examples:\n");
            assertTrue(examples > 0, command.getCommandSpec().qualifiedName() + " has examples:\n" + usage);
            List<String> lines = usage.substring(examples).lines().skip(1).filter(line -> !line.isBlank()).toList();
            assertFalse(lines.isEmpty(), usage);
            String invocation = "  ./" + command.getCommandSpec().qualifiedName();
            for (String line : lines) {
                assertTrue(line.startsWith(invocation) || command.getParent() == null && line.startsWith("  ./rlhf "),
                        "an example of " + invocation.strip() + ": " + line);
                assertTrue(line.length() <= 80, "fits the help's width: " + line);
            }
        }
    }

    @Test
    void versionNamesTheCommitItWasBuiltFrom() {
        StringWriter out = new StringWriter();
        CommandLine commandLine = RlhfCli.commandLine();
        commandLine.setOut(new PrintWriter(out, true));

        int exitCode = commandLine.execute("--version");

        assertEquals(0, exitCode);
        assertTrue(out.toString().strip().matches(
                "rlhf \\S+ \\((commit [0-9a-f]{7,}(, with uncommitted changes)?|not built from a git checkout)\\)"),
                out.toString());
    }

    /** {@code command} and every command below it, except picocli's own help command. */
    private static void collect(CommandLine command, List<CommandLine> into) {
        if (command.getCommand() instanceof CommandLine.HelpCommand) {
            return;
        }
        into.add(command);
        command.getSubcommands().values().forEach(sub -> collect(sub, into));
    }
}
