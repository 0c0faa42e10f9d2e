package io.remora.core.log;

import java.nio.file.Path;
import org.slf4j.Logger;

/**
 * The sidecar's log files, one per area, under one directory: {@code default.log} for the engine, plus the files
 * areas add ({@code flow-control.log}, {@code fault_inject.log}, ...). Levels change at run time through the admin API.
 */
public interface LogFiles {

    /** The log directory. */
    Path dir();

    /**
     * The logger that writes to {@code <dir>/<fileName>} (e.g. {@code "flow-control.log"}), created on first use with
     * {@code defaultLevel}. Calling it again returns the same logger.
     */
    Logger fileLogger(String fileName, String defaultLevel);

    /**
     * A logger that only holds {@code <dir>/<fileName>}'s run-time level (listed and switched by the admin log-level
     * API like the others) and writes nowhere: for writers that write the file themselves and only ask
     * {@code isInfoEnabled()}. Calling it again, or {@link #fileLogger} for the same file afterwards, returns the same
     * logger. The default, for implementations without levels, is {@link #fileLogger}.
     */
    default Logger levelOnly(String fileName, String defaultLevel) {
        return fileLogger(fileName, defaultLevel);
    }
}
