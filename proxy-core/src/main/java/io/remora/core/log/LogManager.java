package io.remora.core.log;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.util.FileSize;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.LoggerFactory;

/**
 * The log files and their run-time levels, on logback. {@code default.log} takes everything logged through SLF4J
 * (the root logger, ERROR by default); each area file ({@code flow-control.log}, ...) has its own logger that does not
 * propagate to default.log. Start-up lines also go to stdout. Levels are the admin API's names: FATAL, ERROR, WARN,
 * INFO, DEBUG, TRACE (FATAL maps to logback's highest level, ERROR, and reads back as FATAL).
 */
public final class LogManager implements LogFiles {

    public static final String DEFAULT_FILE = "default.log";
    public static final Set<String> LEVELS = Set.of("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE");
    private static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n";
    private static final String FILE_LOGGER_PREFIX = "remora.file.";

    private final LoggerContext context;
    private final Path dir;
    /** file path (absolute, as text) -> the logger writing it */
    private final Map<String, Logger> byPath = new ConcurrentHashMap<>();
    /** logger name -> the level name last set through us (so FATAL reads back as FATAL) */
    private final Map<String, String> levelNames = new ConcurrentHashMap<>();
    private final RollingFileAppender<ILoggingEvent> defaultAppender;
    /** logger names switched off by {@link #setEnabled}; their level name is kept and comes back on enable */
    private final Set<String> disabled = ConcurrentHashMap.newKeySet();

    private LogManager(LoggerContext context, Path dir, RollingFileAppender<ILoggingEvent> defaultAppender) {
        this.context = context;
        this.dir = dir;
        this.defaultAppender = defaultAppender;
    }

    /**
     * Resets logback to the sidecar's layout under {@code dir}. {@code console} also echoes start-up lines to stdout.
     */
    public static LogManager configure(Path dir, String defaultLevel, boolean console) throws IOException {
        Files.createDirectories(dir);
        Path absDir = dir.toAbsolutePath().normalize();
        LoggerContext ctx = (LoggerContext) LoggerFactory.getILoggerFactory();
        ctx.reset();
        RollingFileAppender<ILoggingEvent> def = fileAppender(ctx, absDir.resolve(DEFAULT_FILE));
        Logger root = ctx.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.addAppender(def);
        LogManager m = new LogManager(ctx, absDir, def);
        m.byPath.put(absDir.resolve(DEFAULT_FILE).toString(), root);
        m.setLevel(root, defaultLevel == null ? "ERROR" : defaultLevel);

        // Start-up and lifecycle lines: always recorded, whatever default.log's level.
        Logger startup = ctx.getLogger("io.remora.startup");
        startup.setAdditive(false);
        startup.setLevel(Level.INFO);
        startup.addAppender(def);
        if (console) {
            ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
            out.setContext(ctx);
            out.setName("console");
            out.setEncoder(encoder(ctx, "%d{HH:mm:ss.SSS} %-5level %msg%n"));
            out.start();
            startup.addAppender(out);
        }
        // Netty's own chatter stays at WARN unless asked for.
        ctx.getLogger("io.netty").setLevel(Level.WARN);
        return m;
    }

    @Override
    public Path dir() {
        return dir;
    }

    @Override
    public org.slf4j.Logger fileLogger(String fileName, String defaultLevel) {
        return fileLogger(fileName, defaultLevel, true);
    }

    @Override
    public org.slf4j.Logger levelOnly(String fileName, String defaultLevel) {
        return fileLogger(fileName, defaultLevel, false);
    }

    private org.slf4j.Logger fileLogger(String fileName, String defaultLevel, boolean appender) {
        Path file = dir.resolve(fileName).normalize();
        return byPath.computeIfAbsent(file.toString(), k -> {
            Logger l = context.getLogger(FILE_LOGGER_PREFIX + fileName.replace('.', '_'));
            l.setAdditive(false);
            if (appender) {
                l.addAppender(fileAppender(context, file));
            }
            setLevel(l, defaultLevel == null ? "INFO" : defaultLevel);
            return l;
        });
    }

    /** Every log file path and its level; {@code ""} is the default logger (default.log). */
    public Map<String, String> levels() {
        Map<String, String> m = new LinkedHashMap<>();
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        m.put("", levelName(root));
        byPath.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> m.put(e.getKey(), levelName(e.getValue())));
        return m;
    }

    /**
     * Sets the level of the file at {@code path} ({@code ""}, {@code default.log}'s path or bare file name, or an area
     * file's path or bare name).
     *
     * @throws IllegalArgumentException naming the unknown level or path
     */
    public void update(String path, String level) {
        if (level == null || !LEVELS.contains(level.toUpperCase(Locale.ROOT))) {
            throw new IllegalArgumentException("unknown log level \"" + level
                    + "\" (one of FATAL, ERROR, WARN, INFO, DEBUG, TRACE)");
        }
        Logger l = find(path);
        if (l == null) {
            throw new IllegalArgumentException("unknown log path \"" + path + "\" (known: " + levels().keySet() + ")");
        }
        setLevel(l, level.toUpperCase(Locale.ROOT));
    }

    /**
     * Switches the file at {@code path} off (nothing is written, whatever its level) or back on at the level it had
     * (MOSN's {@code disable_log} / {@code enable_log}). Start-up lines in default.log are always written.
     *
     * @throws IllegalArgumentException naming the unknown path
     */
    public void setEnabled(String path, boolean enabled) {
        Logger l = find(path);
        if (l == null) {
            throw new IllegalArgumentException("unknown log path \"" + path + "\" (known: " + levels().keySet() + ")");
        }
        synchronized (l) {
            if (enabled) {
                if (disabled.remove(l.getName())) {
                    String name = levelNames.get(l.getName());
                    applyLevel(l, name != null ? name : "ERROR");
                }
            } else if (disabled.add(l.getName())) {
                l.setLevel(Level.OFF);
            }
        }
    }

    /** False while the file at {@code path} is switched off by {@link #setEnabled}. */
    public boolean enabled(String path) {
        Logger l = find(path);
        if (l == null) {
            throw new IllegalArgumentException("unknown log path \"" + path + "\" (known: " + levels().keySet() + ")");
        }
        return !disabled.contains(l.getName());
    }

    private Logger find(String path) {
        if (path == null || path.isEmpty() || path.equals(DEFAULT_FILE)) {
            return context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        }
        Logger l = byPath.get(path);
        if (l == null) {
            l = byPath.get(dir.resolve(path).normalize().toString());
        }
        return l;
    }

    private void setLevel(Logger l, String name) {
        synchronized (l) {
            levelNames.put(l.getName(), name);
            if (!disabled.contains(l.getName())) {
                applyLevel(l, name);
            }
        }
    }

    private static void applyLevel(Logger l, String name) {
        l.setLevel(name.equals("FATAL") ? Level.ERROR : Level.toLevel(name));
    }

    private String levelName(Logger l) {
        String n = levelNames.get(l.getName());
        return n != null ? n : String.valueOf(l.getEffectiveLevel());
    }

    /** Flushes and closes every appender (at shutdown). */
    public void stop() {
        context.stop();
    }

    /** The default.log appender (for tests that read it). */
    public Path defaultLogFile() {
        return Path.of(defaultAppender.getFile());
    }

    private static RollingFileAppender<ILoggingEvent> fileAppender(LoggerContext ctx, Path file) {
        RollingFileAppender<ILoggingEvent> a = new RollingFileAppender<>();
        a.setContext(ctx);
        a.setName(file.getFileName().toString());
        a.setFile(file.toString());
        a.setAppend(true);
        FixedWindowRollingPolicy roll = new FixedWindowRollingPolicy();
        roll.setContext(ctx);
        roll.setParent(a);
        roll.setFileNamePattern(file + ".%i");
        roll.setMinIndex(1);
        roll.setMaxIndex(5);
        roll.start();
        SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(ctx);
        trigger.setMaxFileSize(FileSize.valueOf("100MB"));
        trigger.start();
        a.setRollingPolicy(roll);
        a.setTriggeringPolicy(trigger);
        a.setEncoder(encoder(ctx, PATTERN));
        a.start();
        return a;
    }

    private static PatternLayoutEncoder encoder(LoggerContext ctx, String pattern) {
        PatternLayoutEncoder e = new PatternLayoutEncoder();
        e.setContext(ctx);
        e.setPattern(pattern);
        e.start();
        return e;
    }
}
