package io.remora.filters.it;

import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.HelloServiceImpl;
import io.remora.testkit.sofa.SofaRpcPeers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigLoader;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Governance end to end: real SOFARPC consumers call a real SOFARPC provider through the sidecar's Bolt listeners
 * ({@code egress}: outbound, client-side rules; {@code ingress}: inbound, server-side rules).
 */
class BoltGovernanceTest {

    static final String SVC = HelloService.class.getName() + ":1.0";
    private static SofaRpcPeers peers;
    private static final HelloServiceImpl impl = new HelloServiceImpl();
    private static int providerPort;
    private TestSidecar sidecar;

    @BeforeAll
    static void provider() {
        peers = new SofaRpcPeers();
        providerPort = peers.provide(HelloService.class, impl, null);
    }

    @AfterAll
    static void stopProvider() {
        peers.close();
    }

    @AfterEach
    void stop() {
        peers.closeConsumers();
        impl.failing = false;
        if (sidecar != null) {
            sidecar.close();
        }
    }

    private void start(String governance) throws Exception {
        String filters = """
                [{"type":"access_control"},{"type":"fault_inject"},{"type":"rate_limit"},{"type":"circuit_breaker"}]""";
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},"node":{"app":"hello-server"},
                 "listeners":[
                   {"name":"egress","address":"127.0.0.1:0","protocol":"bolt","direction":"outbound",
                    "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":5000}],"filters":%s},
                   {"name":"ingress","address":"127.0.0.1:0","protocol":"bolt","direction":"inbound",
                    "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":5000}],"filters":%s}],
                 "clusters":[{"name":"hello","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"governance":%s}}
                """.formatted(filters, filters, providerPort, governance));
    }

    private HelloService egress(String app) {
        return peers.consumer(app, HelloService.class, sidecar.port("egress"), 5000, null, null);
    }

    private HelloService ingress(String app) {
        return peers.consumer(app, HelloService.class, sidecar.port("ingress"), 5000, null, null);
    }

    /** A client-side rule; {@code fields} are the kind-specific JSON fields. */
    private static String rule(String name, String fields) {
        return "{\"name\":\"" + name + "\",\"direction\":\"client\",\"service\":\"" + SVC + "\"," + fields + "}";
    }

    private static String qps(String name, int threshold) {
        return rule(name, "\"type\":\"qps\",\"threshold\":" + threshold + ",\"unit_ms\":3600000");
    }

    /** The error message of a failed call, or null if it succeeded. */
    private static String failure(Supplier<String> call) {
        try {
            call.get();
            return null;
        } catch (RuntimeException e) {
            return String.valueOf(e.getMessage());
        }
    }

    private static void assertFailsWith(String text, Supplier<String> call) {
        String m = failure(call);
        assertTrue(m != null && m.contains(text), "expected a failure containing \"" + text + "\", got " + m);
    }

    private JsonNode stats(String kind, String name) throws Exception {
        JsonNode s = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/rules/stats", null).body());
        for (JsonNode r : s.get(kind)) {
            if (r.get("name").asText().equals(name)) {
                return r;
            }
        }
        throw new AssertionError(name + " not in " + s);
    }

    @Test
    void qpsRuleRejectsTheExcessWithTheRuleNamedInTheSofaException() throws Exception {
        start("{\"rate_limit\":[" + qps("hello-qps", 3) + "]}");
        HelloService h = egress("shop");
        for (int i = 0; i < 3; i++) {
            assertEquals("hello a", h.sayHello("a"));
        }
        assertFailsWith("rate limited by rule hello-qps", () -> h.sayHello("a"));
        assertFailsWith("rate limited by rule hello-qps", () -> h.sayHello("a"));
        assertEquals(3, stats("rate_limit", "hello-qps").get("passed").asLong());
        assertEquals(2, stats("rate_limit", "hello-qps").get("rejected").asLong());
    }

    @Test
    void concurrencyRuleRefusesCallsBeyondTheLimitInFlight() throws Exception {
        start("{\"rate_limit\":[" + rule("two-at-a-time", "\"type\":\"concurrency\",\"threshold\":2") + "]}");
        HelloService h = egress("shop");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<String>> slow = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                slow.add(pool.submit(() -> h.slow(1500)));
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (stats("rate_limit", "two-at-a-time").get("concurrency").asInt() < 2 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertFailsWith("rate limited by rule two-at-a-time", () -> h.sayHello("third"));
            for (Future<String> f : slow) {
                assertEquals("slept 1500", f.get(10, TimeUnit.SECONDS));
            }
            assertEquals("hello again", h.sayHello("again"));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void smallestLimitWins() throws Exception {
        start("{\"rate_limit\":[" + qps("loose", 5) + "," + qps("tight", 2) + "]}");
        HelloService h = egress("shop");
        h.sayHello("1");
        h.sayHello("2");
        assertFailsWith("rate limited by rule tight", () -> h.sayHello("3"));
        assertEquals("tight", stats("rate_limit", "loose").get("shadowed_by").asText());
    }

    @Test
    void breakerOpensOnProviderErrorsFailsFastAndClosesAfterASuccessfulTrial() throws Exception {
        start("{\"circuit_breaker\":[" + rule("hello-cb", "\"method\":\"sayHello\",\"type\":\"error_ratio\","
                + "\"min_requests\":4,\"error_ratio_threshold\":0.5,\"open_duration_ms\":700") + "]}");
        HelloService h = egress("shop");
        impl.failing = true;
        for (int i = 0; i < 4; i++) {
            assertFailsWith("provider failure", () -> h.sayHello("x"));
        }
        int before = impl.count();
        assertFailsWith("circuit open by rule hello-cb", () -> h.sayHello("x"));
        assertEquals(before, impl.count(), "failing fast: the provider is not called");
        assertEquals("open", stats("circuit_breaker", "hello-cb").get("breakers").get(0).get("state").asText());

        // After the open duration one trial goes through; it fails, so the breaker re-opens.
        String m = awaitTrial(h);
        assertTrue(m.contains("provider failure"), m);
        assertFailsWith("circuit open by rule hello-cb", () -> h.sayHello("x"));

        impl.failing = false;
        assertEquals(null, awaitTrial(h), "the successful trial closes the breaker");
        for (int i = 0; i < 5; i++) {
            assertEquals("hello y", h.sayHello("y"));
        }
        assertEquals("closed", stats("circuit_breaker", "hello-cb").get("breakers").get(0).get("state").asText());
    }

    /** Calls until one is not refused by the open breaker (the trial); returns its failure message or null. */
    private static String awaitTrial(HelloService h) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            String m = failure(() -> h.sayHello("trial"));
            if (m == null || !m.contains("circuit open")) {
                return m;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the breaker never let a trial through");
    }

    @Test
    void averageRtBreakerOpensOnSlowCalls() throws Exception {
        start("{\"circuit_breaker\":[" + rule("hello-rt", "\"type\":\"avg_rt\",\"min_requests\":2,"
                + "\"rt_threshold_ms\":150,\"open_duration_ms\":60000") + "]}");
        HelloService h = egress("shop");
        h.slow(250);
        h.slow(250);
        assertFailsWith("circuit open by rule hello-rt", () -> h.slow(1));
        assertEquals("hello z", h.sayHello("z"), "other methods have their own breaker");
    }

    @Test
    void abortInjectionAtHundredPercent() throws Exception {
        start("{\"fault_inject\":[" + rule("boom", "\"type\":\"abort\",\"method\":\"sayHello\"") + ","
                + rule("busy", "\"type\":\"abort\",\"method\":\"slow\",\"abort_status\":4") + "]}");
        HelloService h = egress("shop");
        int before = impl.count();
        assertFailsWith("fault injected by rule boom", () -> h.sayHello("x"));
        String busy = failure(() -> h.slow(1));
        assertTrue(busy != null, "abort with a native status fails the call");
        assertEquals(before, impl.count());
        assertEquals(2, stats("fault_inject", "boom").get("injected").asLong()
                + stats("fault_inject", "busy").get("injected").asLong());
    }

    @Test
    void delayInjectionAddsLatencyAndForwards() throws Exception {
        start("{\"fault_inject\":[" + rule("slowdown", "\"type\":\"delay\",\"delay_ms\":400") + "]}");
        HelloService h = egress("shop");
        long t0 = System.nanoTime();
        assertEquals("hello d", h.sayHello("d"));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms >= 400 && ms < 4000, "took " + ms + " ms");
    }

    @Test
    void sampledAbortHitsAboutThePercentage() throws Exception {
        start("{\"fault_inject\":[" + rule("third", "\"type\":\"abort\",\"percentage\":30") + "]}");
        HelloService h = egress("shop");
        int failed = 0;
        for (int i = 0; i < 300; i++) {
            if (failure(() -> h.sayHello("s")) != null) {
                failed++;
            }
        }
        // 300 draws at 30%: mean 90, sd ~7.9; +-40 is beyond 5 sd.
        assertTrue(failed >= 50 && failed <= 130, failed + " of 300 aborted");
        assertEquals(failed, stats("fault_inject", "third").get("injected").asLong());
    }

    @Test
    void whitelistOnCallerAppServerSide() throws Exception {
        start("{\"access_control\":[{\"name\":\"only-shop\",\"direction\":\"server\",\"service\":\"" + SVC + "\","
                + "\"type\":\"whitelist\",\"conditions\":[{\"source\":\"system\",\"field\":\"caller_app\","
                + "\"operator\":\"equals\",\"value\":\"shop\"}]}]}");
        assertEquals("hello s", ingress("shop").sayHello("s"));
        assertFailsWith("access denied by rule only-shop", () -> ingress("bank").sayHello("b"));
        assertEquals("hello b", egress("bank").sayHello("b"), "server-side rules do not apply on outbound");
    }

    @Test
    void blacklistOnCallerIp() throws Exception {
        start("{\"access_control\":[" + rule("no-loopback", "\"type\":\"blacklist\",\"conditions\":[{\"source\":"
                + "\"system\",\"field\":\"caller_ip\",\"operator\":\"regex\",\"value\":\"127\\\\..*\"}]") + ","
                + rule("no-lab", "\"type\":\"blacklist\",\"conditions\":[{\"source\":\"system\",\"field\":"
                + "\"caller_ip\",\"operator\":\"equals\",\"value\":\"10.0.0.1\"}]") + "]}");
        assertFailsWith("access denied by rule no-loopback", () -> egress("shop").sayHello("x"));
        assertEquals(0, stats("access_control", "no-lab").get("rejected").asLong());
    }

    @Test
    void notInAndRegexConditionsSelectTheTraffic() throws Exception {
        start("{\"fault_inject\":[" + rule("not-shop", "\"type\":\"abort\",\"conditions\":[{\"source\":\"system\","
                + "\"field\":\"caller_app\",\"operator\":\"not_in\",\"values\":[\"shop\",\"cart\"]}]") + "],"
                + "\"rate_limit\":[" + rule("ca-apps", "\"type\":\"qps\",\"threshold\":1,\"unit_ms\":3600000,"
                + "\"conditions\":[{\"source\":\"system\",\"field\":\"caller_app\",\"operator\":\"regex\","
                + "\"value\":\"ca.*\"}]") + "]}");
        assertEquals("hello s", egress("shop").sayHello("s"));
        assertFailsWith("fault injected by rule not-shop", () -> egress("bank").sayHello("b"));
        HelloService cart = egress("cart");
        assertEquals("hello c", cart.sayHello("c"));
        assertFailsWith("rate limited by rule ca-apps", () -> cart.sayHello("c"));
        assertEquals("hello s", egress("shop").sayHello("s"));
    }

    @Test
    void observeModeLeavesEveryCallSuccessfulWhileCounting() throws Exception {
        start("{\"rate_limit\":[" + rule("watch-qps", "\"mode\":\"observe\",\"type\":\"qps\",\"threshold\":2,"
                + "\"unit_ms\":3600000") + "],\"access_control\":[" + rule("watch-acl", "\"mode\":\"observe\","
                + "\"type\":\"blacklist\"") + "],\"fault_inject\":[" + rule("watch-fault", "\"mode\":\"observe\","
                + "\"type\":\"abort\"") + "]}");
        HelloService h = egress("shop");
        for (int i = 0; i < 10; i++) {
            assertEquals("hello o", h.sayHello("o"));
        }
        assertEquals(8, stats("rate_limit", "watch-qps").get("observed_rejected").asLong());
        assertEquals(10, stats("access_control", "watch-acl").get("observed_rejected").asLong());
        assertEquals(10, stats("fault_inject", "watch-fault").get("observed_rejected").asLong());
        assertEquals(0, stats("rate_limit", "watch-qps").get("rejected").asLong());
    }

    @Test
    void replacingRulesUnderContinuousLoadFailsOnlyWhatTheNewRulesExplain() throws Exception {
        start("{\"rate_limit\":[" + rule("roomy", "\"type\":\"qps\",\"threshold\":1000000") + "]}");
        HelloService h = egress("shop");
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicLong ok = new AtomicLong();
        AtomicInteger explained = new AtomicInteger();
        List<String> unexplained = java.util.Collections.synchronizedList(new ArrayList<>());
        ExecutorService load = Executors.newFixedThreadPool(4);
        CountDownLatch warm = new CountDownLatch(4);
        for (int t = 0; t < 4; t++) {
            load.submit(() -> {
                while (running.get()) {
                    String m = failure(() -> h.sayHello("load"));
                    if (m == null) {
                        ok.incrementAndGet();
                    } else if (m.contains("fault injected by rule maintenance")) {
                        explained.incrementAndGet();
                    } else {
                        unexplained.add(m);
                    }
                    warm.countDown();
                }
            });
        }
        try {
            assertTrue(warm.await(10, TimeUnit.SECONDS));
            for (int round = 0; round < 5; round++) {
                assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/rate_limit", "[" + rule("roomy-" + round,
                        "\"type\":\"qps\",\"threshold\":" + (1_000_000 + round)) + "]").status());
                assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/circuit_breaker", "[" + rule("cb-" + round,
                        "\"type\":\"error_ratio\",\"error_ratio_threshold\":1,\"min_requests\":1000000") + "]")
                        .status());
                assertEquals(400, sidecar.admin("PUT", "/api/v1/rules/rate_limit", "[{\"name\":\"broken\"}]")
                        .status());
                awaitCount(ok, ok.get() + 10);
            }
            assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/fault_inject",
                    "[" + rule("maintenance", "\"type\":\"abort\"") + "]").status());
            awaitCount(explained, 10);
            assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/fault_inject", "[]").status());
            long okAfterFault = ok.get();
            awaitCount(ok, okAfterFault + 50);
        } finally {
            running.set(false);
            load.shutdown();
            assertTrue(load.awaitTermination(10, TimeUnit.SECONDS));
        }
        assertEquals(List.of(), unexplained);
    }

    private static void awaitCount(AtomicInteger n, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (n.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(n.get() >= atLeast, n.get() + " < " + atLeast);
    }

    private static void awaitCount(AtomicLong n, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (n.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertTrue(n.get() >= atLeast, n.get() + " < " + atLeast);
    }

    @Test
    void exportThenImportRestoresTheSameRules() throws Exception {
        start("{\"rate_limit\":[" + qps("hello-qps", 1) + "],\"access_control\":[" + rule("acl",
                "\"type\":\"whitelist\",\"conditions\":[{\"source\":\"system\",\"field\":\"caller_app\","
                        + "\"operator\":\"in\",\"values\":[\"shop\"]}]") + "]}");
        String exported = sidecar.admin("GET", "/api/v1/rules/export", null).body();
        assertEquals(200, sidecar.admin("POST", "/api/v1/rules/import", "{}").status());
        assertEquals("hello b", egress("bank").sayHello("b"));
        assertEquals(200, sidecar.admin("POST", "/api/v1/rules/import", exported).status());
        assertEquals(exported, sidecar.admin("GET", "/api/v1/rules/export", null).body());
        assertFailsWith("access denied by rule acl", () -> egress("bank").sayHello("b"));
        HelloService shop = egress("shop");
        assertEquals("hello s", shop.sayHello("s"));
        assertFailsWith("rate limited by rule hello-qps", () -> shop.sayHello("s"));
    }
}
