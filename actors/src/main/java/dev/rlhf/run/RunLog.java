package dev.rlhf.run;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import java.nio.file.Path;
import org.slf4j.LoggerFactory;

/**
 * A log file for the length of a long job: every log line of this JVM while it goes on, at the levels logback.xml
 * sets, appended to the file. A run's is {@code run.log} in its run directory (a resumed run appends to it). Does
 * nothing when the SLF4J backend is not logback.
 */
public final class RunLog implements AutoCloseable {
    static final String FILE_NAME = "run.log";

    private final Logger root;
    private final FileAppender<ILoggingEvent> appender;

    private RunLog(Logger root, FileAppender<ILoggingEvent> appender) {
        this.root = root;
        this.appender = appender;
    }

    /** Starts writing the log to {@code runDir}/run.log. */
    static RunLog open(Path runDir) {
        return toFile(runDir.resolve(FILE_NAME));
    }

    /** Starts writing the log to {@code file} (its directory is created if missing). */
    public static RunLog toFile(Path file) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return new RunLog(null, null);
        }
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{36} - %msg%n");
        encoder.start();
        FileAppender<ILoggingEvent> appender = new FileAppender<>();
        appender.setContext(context);
        appender.setName("run-log");
        appender.setFile(file.toString());
        appender.setAppend(true);
        appender.setEncoder(encoder);
        appender.start();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(appender);
        return new RunLog(root, appender);
    }

    /** Stops writing to the file. */
    @Override
    public void close() {
        if (appender != null) {
            root.detachAppender(appender);
            appender.stop();
        }
    }
}
