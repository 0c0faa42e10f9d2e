package io.remora.core.limits;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * One log line per reason and interval for things an attacker can repeat at will (refused connections, malformed
 * frames, shed requests): the first occurrence is logged at once, later ones in the same interval are only counted,
 * and the next line says how many were not logged. Never a stack trace. Thread-safe, lock-free on the hot path.
 */
public final class LimitLog {

    /** How often one reason may log. */
    public static final long DEFAULT_INTERVAL_NANOS = 10_000_000_000L;

    private final Logger log;
    private final long intervalNanos;
    private final LongSupplier clock;
    private final ConcurrentHashMap<String, Window> windows = new ConcurrentHashMap<>();

    public LimitLog(Logger log) {
        this(log, DEFAULT_INTERVAL_NANOS, System::nanoTime);
    }

    public LimitLog(Logger log, long intervalNanos, LongSupplier clock) {
        this.log = log;
        this.intervalNanos = intervalNanos;
        this.clock = clock;
    }

    private static final class Window {
        final AtomicLong nextAt;
        final AtomicLong suppressed = new AtomicLong();

        Window(long at) {
            nextAt = new AtomicLong(at);
        }
    }

    /**
     * Logs {@code message} (a format with {@code {}} placeholders) at WARN under {@code reason}, unless that reason
     * already logged within the interval. Returns true if a line was written.
     */
    public boolean warn(String reason, String message, Object... args) {
        long now = clock.getAsLong();
        Window w = windows.computeIfAbsent(reason, r -> new Window(now));
        long at = w.nextAt.get();
        if (now - at < 0 || !w.nextAt.compareAndSet(at, now + intervalNanos)) {
            w.suppressed.incrementAndGet();
            return false;
        }
        long skipped = w.suppressed.getAndSet(0);
        if (log.isWarnEnabled()) {
            String line = skipped == 0 ? message : message + " (" + skipped + " more like it since the last line)";
            log.warn(line, args);
        }
        return true;
    }
}
