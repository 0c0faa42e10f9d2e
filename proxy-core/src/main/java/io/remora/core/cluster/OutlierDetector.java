package io.remora.core.cluster;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;

/**
 * Evaluates fault isolation for one cluster at a time; called periodically from one thread (the health scheduler),
 * so the per-host ejection fields need no synchronisation. Time comes from the caller (injected clock).
 */
public final class OutlierDetector {

    private final Logger log;

    /** @param log {@code fault_tolerance.log} */
    public OutlierDetector(Logger log) {
        this.log = log;
    }

    private record Candidate(Host host, double ratio, long calls) {
    }

    /** Returns hosts whose isolation ended, isolates new outliers. */
    public void evaluate(Cluster cluster, long nowNanos) {
        OutlierPolicy p = cluster.outlier();
        Host[] hosts = cluster.hosts();
        int isolated = 0;
        for (Host h : hosts) {
            if (h.ejected()) {
                if (nowNanos - h.ejectedUntilNanos >= 0) {
                    h.resetWindow();
                    h.setEjected(false);
                    log.info("cluster {} host {} returns from isolation (isolated {} time(s))", cluster.name(),
                            h.address(), h.ejections);
                } else {
                    isolated++;
                }
            }
        }
        if (p == null || hosts.length < 2) {
            return;
        }
        double limit = p.limit();
        List<Candidate> candidates = new ArrayList<>();
        for (Host h : hosts) {
            if (h.ejected()) {
                continue;
            }
            OutlierWindow w = h.window();
            if (w == null) {
                continue;
            }
            long[] s = w.sum(p.windowSeconds(), nowNanos);
            if (s[0] < p.minRequests() || s[0] == 0) {
                continue;
            }
            double ratio = (double) s[1] / s[0];
            if (ratio > limit) {
                candidates.add(new Candidate(h, ratio, s[0]));
            }
        }
        if (candidates.isEmpty()) {
            return;
        }
        candidates.sort(Comparator.comparingDouble(Candidate::ratio).reversed());
        // Never more than the maximum, and never every host of the cluster.
        int room = Math.min(p.maxIsolated(), hosts.length - 1) - isolated;
        for (Candidate c : candidates) {
            Host h = c.host();
            String ratio = String.format("%.1f%%", c.ratio() * 100);
            if (room <= 0) {
                log.info("cluster {} host {} error ratio {} over {} call(s) exceeds {}% but {} host(s) are already "
                        + "isolated (max {})", cluster.name(), h.address(), ratio, c.calls(),
                        String.format("%.1f", limit * 100), isolated, p.maxIsolated());
                continue;
            }
            if (p.monitorOnly()) {
                log.info("[monitor] cluster {} host {} would be isolated: error ratio {} over {} call(s) exceeds "
                        + "{}%", cluster.name(), h.address(), ratio, c.calls(), String.format("%.1f", limit * 100));
                room--;
                continue;
            }
            long millis = isolationMillis(p, h.ejections + 1);
            h.ejections++;
            h.ejectedUntilNanos = nowNanos + millis * 1_000_000L;
            h.setEjected(true);
            isolated++;
            room--;
            log.warn("cluster {} host {} isolated for {} ms: error ratio {} over {} call(s) exceeds {}% "
                    + "(isolation #{})", cluster.name(), h.address(), millis, ratio, c.calls(),
                    String.format("%.1f", limit * 100), h.ejections);
        }
    }

    /** base x n, capped (Envoy's base_ejection_time x ejections, max_ejection_time). */
    static long isolationMillis(OutlierPolicy p, int n) {
        long m = p.baseIsolationMillis() * (long) n;
        return Math.min(m, Math.max(p.baseIsolationMillis(), p.maxIsolationMillis()));
    }
}
