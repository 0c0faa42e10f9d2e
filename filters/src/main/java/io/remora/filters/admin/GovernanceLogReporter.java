package io.remora.filters.admin;

import io.remora.core.log.LogFiles;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleKind;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each rule kind's per-second log ({@code flow-control.log} for rate limits: pass, block, complete, exception,
 * rt, concurrency; {@code fault_inject.log}: injections per fault rule) from counter deltas, on its own thread so the
 * event loops never touch a log file for governance.
 */
final class GovernanceLogReporter {

    private static final Logger log = LoggerFactory.getLogger("io.remora.governance");

    private final Governance governance;
    /** The log of each kind that has one. */
    private final Map<RuleKind<?, ?>, Logger> logs = new HashMap<>();
    private final Map<ActiveRule<?>, RuleCounters.Counts> last = new IdentityHashMap<>();
    private ScheduledExecutorService timer;

    GovernanceLogReporter(Governance governance, LogFiles files) {
        this.governance = governance;
        for (RuleKind<?, ?> k : governance.kinds().all()) {
            if (k.logFile() != null) {
                logs.put(k, files.fileLogger(k.logFile(), "INFO"));
            }
        }
    }

    void start() {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "remora-governance-log");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleAtFixedRate(this::tickSafely, 1, 1, TimeUnit.SECONDS);
    }

    void stop() {
        if (timer != null) {
            timer.shutdownNow();
        }
    }

    private void tickSafely() {
        try {
            tick();
        } catch (RuntimeException e) {
            log.warn("governance log reporter failed", e);
        }
    }

    /** One second's lines. */
    synchronized void tick() {
        List<ActiveRule<?>> states = governance.states();
        Set<ActiveRule<?>> live = Collections.newSetFromMap(new IdentityHashMap<>());
        live.addAll(states);
        last.keySet().retainAll(live);
        for (ActiveRule<?> s : states) {
            RuleCounters.Counts now = s.counters().counts();
            RuleCounters.Counts prev = last.put(s, now);
            Logger out = logs.get(s.kind());
            if (out != null) {
                s.report(prev == null ? now : now.minus(prev), out);
            }
        }
    }
}
