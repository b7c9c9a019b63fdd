package dev.rlhf.cli;

import com.typesafe.config.ConfigException;
import dev.rlhf.policy.model.CheckpointException;
import dev.rlhf.store.ChangeRejectedException;
import dev.rlhf.store.InterchangeFormatException;
import dev.rlhf.store.SchemaVersionException;
import dev.rlhf.store.StoreInUseException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;

/**
 * How {@code rlhf} reports what went wrong, as picocli's handlers for parameter and execution exceptions: one line
 * on stderr, {@code rlhf <command>: <message>}. A user error (a bad argument, configuration key or value, a
 * missing or malformed file or checkpoint) exits {@value #USER_ERROR}; a failure at run time exits
 * {@value #RUN_FAILED} and says where its full stack trace was written. With {@code --verbose} (or
 * {@code RLHF_LOG=debug}) the trace goes to stderr as well.
 */
final class CliErrors implements CommandLine.IParameterExceptionHandler, CommandLine.IExecutionExceptionHandler {
    static final int USER_ERROR = 2;
    static final int RUN_FAILED = 1;

    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        command.getErr().println(name(command) + ": " + e.getMessage() + " (see " + name(command) + " --help)");
        return USER_ERROR;
    }

    @Override
    public int handleExecutionException(Exception e, CommandLine command, CommandLine.ParseResult parsed)
            throws IOException {
        Throwable cause = unwrap(e);
        PrintWriter err = command.getErr();
        if (verbose(parsed)) {
            cause.printStackTrace(err);
        }
        if (isUserError(cause)) {
            err.println(name(command) + ": " + message(cause));
            return USER_ERROR;
        }
        Path trace = Files.createTempFile("rlhf-" + command.getCommandName() + "-", ".trace");
        StringWriter text = new StringWriter();
        cause.printStackTrace(new PrintWriter(text));
        Files.writeString(trace, text.toString());
        err.println(name(command) + ": " + message(cause) + " (full trace in " + trace + ")");
        return RUN_FAILED;
    }

    /** Whether {@code --verbose} was given to any command of the line, or {@code RLHF_LOG} asks for debug. */
    static boolean verbose(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult level = parsed; level != null; level = level.subcommand()) {
            if (level.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return "debug".equalsIgnoreCase(System.getenv("RLHF_LOG"));
    }

    private static boolean isUserError(Throwable cause) {
        return cause instanceof IllegalArgumentException || cause instanceof ConfigException
                || cause instanceof CheckpointException || cause instanceof NoSuchFileException
                || cause instanceof FileNotFoundException || cause instanceof SchemaVersionException
                || cause instanceof StoreInUseException || cause instanceof InterchangeFormatException
                || cause instanceof ChangeRejectedException;
    }

    /** The exception that says what went wrong, without the wrappers of futures and unchecked I/O. */
    private static Throwable unwrap(Throwable e) {
        Throwable cause = e;
        while ((cause instanceof ExecutionException || cause instanceof CompletionException
                || cause instanceof UncheckedIOException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static String message(Throwable cause) {
        if (cause instanceof NoSuchFileException missing) {
            return "no such file: " + missing.getFile();
        }
        String message = cause.getMessage();
        return message == null || message.isBlank() ? cause.getClass().getSimpleName() : message;
    }

    /** {@code rlhf generate}, {@code rlhf bench rm}: the command as typed. */
    private static String name(CommandLine command) {
        return command.getCommandSpec().qualifiedName();
    }
}
