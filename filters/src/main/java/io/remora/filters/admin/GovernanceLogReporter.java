package io.remora.filters.admin;

import io.remora.core.log.LogFiles;
import io.remora.filters.fault.FaultState;
import io.remora.filters.ratelimit.RateLimiter;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.RuleCounters;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Writes {@code flow-control.log} (one line per rate limit rule per second with activity: pass, block, complete,
 * exception, rt, concurrency) and {@code fault_inject.log} (injections per fault rule per second), from counter deltas,
 * on its own thread so the event loops never touch a log file for governance.
 */
final class GovernanceLogReporter {

    private final Governance governance;
    private final Logger flow;
    private final Logger fault;
    private final Map<ActiveRule, long[]> last = new IdentityHashMap<>();
    private ScheduledExecutorService timer;

    GovernanceLogReporter(Governance governance, LogFiles logs) {
        this.governance = governance;
        this.flow = logs.fileLogger("flow-control.log", "INFO");
        this.fault = logs.fileLogger("fault_inject.log", "INFO");
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
            flow.warn("governance log reporter failed", e);
        }
    }

    /** One second's lines. */
    synchronized void tick() {
        List<ActiveRule> states = governance.states();
        Set<ActiveRule> live = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        live.addAll(states);
        last.keySet().retainAll(live);
        for (ActiveRule s : states) {
            RuleCounters c = s.counters();
            long[] now = {c.passed.sum(), c.rejected.sum(), c.observed.sum(), c.completed.sum(), c.exceptions.sum(),
                c.rtNanos.sum(), c.injected.sum()};
            long[] prev = last.put(s, now);
            long[] d = new long[now.length];
            boolean any = false;
            for (int i = 0; i < now.length; i++) {
                d[i] = now[i] - (prev == null ? 0 : prev[i]);
                any |= d[i] != 0;
            }
            String resource = s.scope().service() + "#" + s.scope().method();
            if (s instanceof RateLimiter r && (any || r.concurrency() != 0)) {
                double rtMs = d[3] == 0 ? 0 : d[5] / 1e6 / d[3];
                flow.info("rule={} resource={} mode={} pass={} block={} observed_block={} complete={} exception={} "
                                + "rt={}ms concurrency={}", s.scope().name(), resource, s.scope().mode(), d[0], d[1],
                        d[2], d[3], d[4], String.format("%.2f", rtMs), r.concurrency());
            } else if (s instanceof FaultState f && (d[6] != 0 || d[2] != 0)) {
                fault.info("rule={} resource={} type={} mode={} injected={} observed={} passed={}", s.scope().name(),
                        resource, f.rule().abort() ? "abort" : "delay", s.scope().mode(), d[6], d[2], d[0]);
            }
        }
    }
}
