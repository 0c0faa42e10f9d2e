package io.remora.core.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Windows, isolation periods and the panic threshold, with time passed in explicitly (injected clock). */
class ClusterHealthTest {

    private static final long SEC = 1_000_000_000L;
    private final HostRegistry registry = new HostRegistry();

    private Host[] hosts(String cluster, int n) {
        Host[] hs = new Host[n];
        for (int i = 0; i < n; i++) {
            hs[i] = registry.host(cluster, "10.0.0." + i + ":1", null, 1, Map.of());
        }
        return hs;
    }

    private static Cluster cluster(Host[] hs, OutlierPolicy p, int panic) {
        return new Cluster("c", null, null, "round_robin", hs, 1000, 10, 0, null, panic, null, p);
    }

    private static OutlierPolicy policy(int max) {
        return new OutlierPolicy(10, 5, 20, 2, max, 1000, 3000, false);
    }

    private static void calls(Host h, int ok, int failed, long now) {
        for (int i = 0; i < ok; i++) {
            h.recordOutcome(true, now);
        }
        for (int i = 0; i < failed; i++) {
            h.recordOutcome(false, now);
        }
    }

    @Test
    void windowForgetsCallsOlderThanItsLength() {
        OutlierWindow w = new OutlierWindow();
        w.record(false, 100 * SEC);
        w.record(true, 105 * SEC);
        assertEquals(2, w.sum(10, 105 * SEC)[0]);
        assertEquals(1, w.sum(10, 111 * SEC)[0]);
        assertEquals(0, w.sum(10, 120 * SEC)[0]);
        w.record(true, 170 * SEC); // reuses a slot of second 106 (64 slots)
        assertEquals(1, w.sum(10, 170 * SEC)[0]);
    }

    @Test
    void isolatesWorstHostFirstAndNeverMoreThanTheMaximum() {
        Host[] hs = hosts("a", 4);
        Cluster c = cluster(hs, policy(1), 0);
        OutlierDetector d = new OutlierDetector(LoggerFactory.getLogger("test"));
        long now = 50 * SEC;
        calls(hs[0], 6, 4, now);  // 40%: limit is 20% x 2 = 40%, not exceeded
        calls(hs[1], 5, 5, now);  // 50%
        calls(hs[2], 2, 8, now);  // 80%: the worst
        calls(hs[3], 9, 1, now);
        d.evaluate(c, now);
        assertFalse(hs[0].ejected());
        assertFalse(hs[1].ejected(), "max 1 isolated");
        assertTrue(hs[2].ejected());
    }

    @Test
    void ignoresHostsBelowTheMinimumCallsAndNeverIsolatesEveryHost() {
        Host[] hs = hosts("b", 2);
        Cluster c = cluster(hs, policy(5), 0);
        OutlierDetector d = new OutlierDetector(LoggerFactory.getLogger("test"));
        calls(hs[0], 0, 4, 10 * SEC); // below min_requests 5
        calls(hs[1], 0, 9, 10 * SEC);
        d.evaluate(c, 10 * SEC);
        assertFalse(hs[0].ejected());
        assertTrue(hs[1].ejected());
        calls(hs[0], 0, 9, 10 * SEC);
        d.evaluate(c, 10 * SEC);
        assertFalse(hs[0].ejected(), "the last host is never isolated");
    }

    @Test
    void isolationGrowsWithRepeatOffencesUpToTheCap() {
        Host[] hs = hosts("d", 3);
        Cluster c = cluster(hs, policy(1), 0);
        OutlierDetector d = new OutlierDetector(LoggerFactory.getLogger("test"));
        long now = 100 * SEC;
        long[] expected = {1000, 2000, 3000, 3000};
        for (long millis : expected) {
            calls(hs[0], 0, 10, now);
            d.evaluate(c, now);
            assertTrue(hs[0].ejected());
            long back = now + millis * 1_000_000L;
            d.evaluate(c, back - 1);
            assertTrue(hs[0].ejected(), "still isolated just before " + millis + " ms");
            d.evaluate(c, back);
            assertFalse(hs[0].ejected(), "back after " + millis + " ms");
            now = back + SEC;
        }
        assertEquals(4, hs[0].ejections());
    }

    @Test
    void monitorModeOnlyLogs() {
        Host[] hs = hosts("m", 3);
        Cluster c = cluster(hs, new OutlierPolicy(10, 5, 20, 2, 1, 1000, 3000, true), 0);
        calls(hs[0], 0, 10, 5 * SEC);
        new OutlierDetector(LoggerFactory.getLogger("test")).evaluate(c, 5 * SEC);
        assertFalse(hs[0].ejected());
    }

    @Test
    void balancesOnlyOverHealthyHostsAboveThePanicThreshold() {
        Host[] hs = hosts("p", 4);
        Cluster c = cluster(hs, null, 50);
        hs[0].setFailedHealthCheck(true);
        Set<Host> picked = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            picked.add(c.choose(0));
        }
        assertEquals(Set.of(hs[1], hs[2], hs[3]), picked);
        assertFalse(c.hostSet().panic());
    }

    @Test
    void panicsAndUsesEveryHostWhenTooFewAreHealthy() {
        Host[] hs = hosts("q", 4);
        Cluster c = cluster(hs, null, 50);
        hs[0].setFailedHealthCheck(true);
        hs[1].setFailedHealthCheck(true);
        hs[2].setFailedHealthCheck(true);
        Set<Host> picked = new HashSet<>();
        for (int i = 0; i < 40; i++) {
            picked.add(c.choose(0));
        }
        assertTrue(c.hostSet().panic());
        assertEquals(4, picked.size());
        hs[1].setFailedHealthCheck(false);
        assertFalse(c.hostSet().panic(), "2 of 4 healthy is not below 50%");
    }

    @Test
    void leastRequestPrefersTheLessLoadedHost() {
        Host[] hs = hosts("l", 2);
        Cluster c = new Cluster("c", null, null, "least_request", hs, 1000, 10, 0, null, 50, null, null);
        for (int i = 0; i < 5; i++) {
            hs[0].requestStarted();
        }
        for (int i = 0; i < 20; i++) {
            assertEquals(hs[1], c.choose(0));
        }
    }

    @Test
    void retryPickAvoidsThePreviousHost() {
        Host[] hs = hosts("r", 2);
        Cluster c = cluster(hs, null, 50);
        for (int i = 0; i < 20; i++) {
            assertNotSame(hs[0], c.hostSet().choose(0, hs[0]));
        }
    }
}
