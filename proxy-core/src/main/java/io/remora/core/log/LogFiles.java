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
}
