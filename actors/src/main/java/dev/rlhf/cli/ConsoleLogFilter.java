package dev.rlhf.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Keeps the console for people while a long command runs: its progress table and results go to the console, and
 * of the log only warnings and errors (the whole log goes to the run's {@code run.log}). Named by logback.xml on the
 * console appender; {@link #quiet} turns it on for the length of a run.
 */
public final class ConsoleLogFilter extends Filter<ILoggingEvent> {
    private static volatile boolean quiet;

    @Override
    public FilterReply decide(ILoggingEvent event) {
        return quiet && !event.getLevel().isGreaterOrEqual(Level.WARN) ? FilterReply.DENY : FilterReply.NEUTRAL;
    }

    /** Quiets the console until the returned handle is closed; does nothing when {@code verbose}. */
    static AutoCloseable quiet(boolean verbose) {
        if (verbose) {
            return () -> { };
        }
        quiet = true;
        return () -> quiet = false;
    }
}
