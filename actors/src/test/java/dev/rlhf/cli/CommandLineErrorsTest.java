package dev.rlhf.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rlhf.policy.model.GptConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/**
 * Mistakes a newcomer makes on the command line: each is one line on stderr, {@code rlhf <command>: <message>}
 * naming the field, with no stack trace, and exit code 2; a failure at run time exits 1 and says where its trace is.
 */
class CommandLineErrorsTest {

    /** What the command line printed on stderr and returned. */
    private record Outcome(int exitCode, String stderr) {
        List<String> lines() {
            return stderr.lines().toList();
        }
    }

    @ParameterizedTest(name = "rlhf {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            generate --checkpoint /nonexistent --prompt x | rlhf generate: | checkpoint /nonexistent has no config.json
            generate --max-new-tokens -1 --prompt x       | rlhf generate: | max_new_tokens
            generate --top-p 2 --prompt x                 | rlhf generate: | top_p
            generate --max-new-tokens abc --prompt x      | rlhf generate: | '--max-new-tokens'
            generate                                      | rlhf generate: | '--prompt
            quickstart --iterations 0                     | rlhf quickstart: | rlhf.experiment.iterations
            quickstart --resume                           | rlhf quickstart: | --run-dir
            serve --port 99999                            | rlhf serve: | rlhf.serve.port
            serve --experiments                           | rlhf serve: | rlhf.serve.auth-token
            bench generate --layers 0                     | rlhf bench generate: | layers
            train --config /nonexistent.conf              | rlhf train: | no such config file: /nonexistent.conf
            rm train --base /nonexistent --data x.jsonl    | rlhf rm train: | --base /nonexistent is not a checkpoint: it has no config.json
            rm train --base b --data x --held-out 1.5     | rlhf rm train: | --held-out must be in (0, 1) but was 1.5
            rm train --base b --data x --epochs 0         | rlhf rm train: | --epochs must be positive
            rm eval --reward-model /nonexistent --data x  | rlhf rm eval: | --reward-model /nonexistent is not a directory
            no-such-command                               | rlhf: | no-such-command
            """)
    void aUserErrorIsOneLineNamingTheFieldAndExitsWithTwo(String arguments, String prefix, String field) {
        Outcome outcome = run(arguments.split(" "));

        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.lines().size(), "one line:\n" + outcome.stderr());
        assertTrue(outcome.stderr().startsWith(prefix + " "), outcome.stderr());
        assertTrue(outcome.stderr().contains(field), "names " + field + ": " + outcome.stderr());
        assertFalse(outcome.stderr().contains("\tat "), outcome.stderr());
    }

    @Test
    void aFailureAtRunTimeExitsWithOneAndSaysWhereItsTraceWent(@TempDir Path dir) throws IOException {
        // a policy whose config.json passes the checks made before the run starts; the run directory then cannot be
        // made, which is no mistake in the command
        Path policy = Files.createDirectories(dir.resolve("policy"));
        GptConfig.of(64, 32, 16, 1, 2, -1).write(policy);
        Path config = dir.resolve("experiment.conf");
        Files.writeString(config, """
                rlhf.experiment.policy-checkpoint = "%s"
                rlhf.experiment.run-dir = "/dev/null/run"
                """.formatted(policy));

        Outcome outcome = run("train", "--config", config.toString());

        assertEquals(CliErrors.RUN_FAILED, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.lines().size(), "one line:\n" + outcome.stderr());
        Matcher trace = Pattern.compile("^rlhf train: /dev/null/run: .* \\(full trace in (.+\\.trace)\\)$")
                .matcher(outcome.stderr().strip());
        assertTrue(trace.matches(), outcome.stderr());
        Path traceFile = Path.of(trace.group(1));
        try {
            assertTrue(Files.readString(traceFile).contains("\tat "), "the trace file holds the stack trace");
        } finally {
            Files.deleteIfExists(traceFile);
        }
    }

    @Test
    void aWorkerBoundBeyondLoopbackWithoutCredentialsIsAUserErrorNamingTheKeys(@TempDir Path dir)
            throws IOException {
        Path config = dir.resolve("worker.conf");
        Files.writeString(config, """
                rlhf.cluster.hostname = "0.0.0.0"
                rlhf.cluster.worker.policy-checkpoint = "%s"
                """.formatted(dir.resolve("no-policy")));

        Outcome outcome = run("worker", "--config", config.toString());

        assertEquals(CliErrors.USER_ERROR, outcome.exitCode(), outcome.stderr());
        assertEquals(1, outcome.lines().size(), "one line:\n" + outcome.stderr());
        assertTrue(outcome.stderr().startsWith("rlhf worker: rlhf.cluster.hostname = \"0.0.0.0\" is not a loopback "
                + "address"), outcome.stderr());
        assertTrue(outcome.stderr().contains("rlhf.cluster.tls") && outcome.stderr().contains("rlhf.cluster.token"),
                outcome.stderr());
    }

    @Test
    void verboseShowsTheStackTrace() {
        Outcome outcome = run("serve", "--port", "99999", "--verbose");

        assertEquals(CliErrors.USER_ERROR, outcome.exitCode());
        assertTrue(outcome.stderr().contains("\tat "), outcome.stderr());
        assertTrue(outcome.stderr().strip().endsWith("rlhf serve: rlhf.serve.port must be in [0, 65535] but was: 99999"),
                outcome.stderr());
    }

    private static Outcome run(String... arguments) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = RlhfCli.commandLine();
        commandLine.setErr(new PrintWriter(err, true));
        commandLine.setOut(new PrintWriter(new StringWriter(), true));
        int exitCode = commandLine.execute(arguments);
        return new Outcome(exitCode, err.toString());
    }
}
