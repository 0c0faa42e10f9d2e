package io.remora.upgrade;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigLoader;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.helpers.MessageFormatter;

/** What this process did in its upgrades so far: logged to upgrade.log and shown by {@code GET /api/v1/upgrade}. */
final class Progress {

    private static final int MAX_EVENTS = 200;

    private final Logger log;
    private final ArrayDeque<String> events = new ArrayDeque<>();
    private volatile String role = "standalone";
    private volatile String state = "idle";
    private volatile String socket = "-";
    private volatile long peerPid = -1;
    private volatile long startedAtNanos;
    private volatile long durationMillis = -1;
    final AtomicInteger listeners = new AtomicInteger();
    final AtomicInteger migrated = new AtomicInteger();
    final AtomicInteger drained = new AtomicInteger();
    final AtomicInteger failed = new AtomicInteger();
    final AtomicInteger counters = new AtomicInteger();

    Progress(Logger log) {
        this.log = log;
    }

    void socket(String s) {
        socket = s;
    }

    /** Starts an upgrade in {@code role} ("old": hands over; "new": takes over) with the peer's pid. */
    void begin(String role, long peerPid) {
        this.role = role;
        this.peerPid = peerPid;
        this.startedAtNanos = System.nanoTime();
        this.durationMillis = -1;
        listeners.set(0);
        migrated.set(0);
        drained.set(0);
        failed.set(0);
        counters.set(0);
    }

    void state(String s) {
        state = s;
    }

    String state() {
        return state;
    }

    void finish(String s) {
        state = s;
        durationMillis = (System.nanoTime() - startedAtNanos) / 1_000_000;
    }

    long elapsedMillis() {
        return (System.nanoTime() - startedAtNanos) / 1_000_000;
    }

    void info(String fmt, Object... args) {
        log.info(fmt, args);
        record("INFO", fmt, args);
    }

    void warn(String fmt, Object... args) {
        log.warn(fmt, args);
        record("WARN", fmt, args);
    }

    private void record(String level, String fmt, Object... args) {
        String line = Instant.now() + " " + level + " " + MessageFormatter.arrayFormat(fmt, args).getMessage();
        synchronized (events) {
            if (events.size() == MAX_EVENTS) {
                events.removeFirst();
            }
            events.addLast(line);
        }
    }

    String json() {
        ObjectNode o = ConfigLoader.mapper().createObjectNode();
        o.put("pid", ProcessHandle.current().pid());
        o.put("role", role);
        o.put("state", state);
        o.put("socket", socket);
        o.put("peer_pid", peerPid);
        o.put("duration_ms", durationMillis);
        o.put("listeners", listeners.get());
        ObjectNode c = o.putObject("connections");
        c.put("migrated", migrated.get());
        c.put("drained", drained.get());
        c.put("failed", failed.get());
        o.put("counters_carried", counters.get());
        ArrayNode ev = o.putArray("events");
        synchronized (events) {
            events.forEach(ev::add);
        }
        return o.toPrettyString();
    }
}
