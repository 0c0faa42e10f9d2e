package io.remora.filters.routing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.rpc.RpcClient;
import com.alipay.sofa.rpc.config.ConsumerConfig;
import io.remora.core.cluster.Host;

import io.remora.testing.TestSidecar;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Label routing, fault isolation, health checks, retries and the app heartbeat end to end: real SOFARPC consumers
 * call through the sidecar's Bolt listener to several real SOFARPC providers on 127.0.0.1, each with labels.
 */
class RoutingEndToEndTest {

    static final String SVC = Greeter.class.getName() + ":1.0";
    private static Provider gray;
    private static Provider base1;
    private static Provider base2;
    private TestSidecar sidecar;
    private final List<ConsumerConfig<Greeter>> consumers = new ArrayList<>();
    private final List<Provider> extra = new ArrayList<>();

    @BeforeAll
    static void providers() {
        gray = new Provider("gray");
        base1 = new Provider("base1");
        base2 = new Provider("base2");
    }

    @AfterAll
    static void stopProviders() {
        gray.close();
        base1.close();
        base2.close();
    }

    @AfterEach
    void stop() {
        consumers.forEach(c -> {
            try {
                c.unRefer();
            } catch (RuntimeException ignored) {
                // teardown
            }
        });
        if (sidecar != null) {
            sidecar.close();
        }
        extra.forEach(Provider::close);
        base1.failing = false;
        base2.failing = false;
    }

    private static String host(Provider p, String label) {
        return "{\"address\":\"" + p.address() + "\",\"labels\":{\"LABEL\":\"" + label + "\"}}";
    }

    private static String labeledHosts() {
        return "[" + host(gray, "gray") + "," + host(base1, "base") + "," + host(base2, "base") + "]";
    }

    private void start(String clusterExtra, String hosts, String routeExtra, String extensions) throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"egress","address":"127.0.0.1:0","protocol":"bolt",
                   "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":5000%s}]}],
                 "clusters":[{"name":"hello","protocol":"bolt","connect_timeout_ms":500,"hosts":%s%s}],
                 "extensions":%s}
                """.formatted(routeExtra, hosts, clusterExtra, extensions));
    }

    private Greeter client(String app) {
        ConsumerConfig<Greeter> c = Provider.consumer(app, sidecar.port("egress"));
        consumers.add(c);
        return c.refer();
    }

    private static String rules(String... rules) {
        return "{\"label_routing\":{\"rules\":[" + String.join(",", rules) + "]}}";
    }

    private static final String GRAY_10 = """
            {"name":"gray-10","app":"hello","service":"%s","priority":1,
             "groups":[{"name":"gray","weight":10,"labels":{"LABEL":"gray"}},
                       {"name":"base","weight":90,"labels":{"LABEL":"base"}}]}""".formatted(SVC);

    private static final String GRAY_CALLER = """
            {"name":"gray-callers","app":"hello","service":"%s","priority":10,
             "conditions":[{"source":"system","field":"caller_app","operator":"equals","value":"gray-client"}],
             "groups":[{"name":"gray","weight":100,"labels":{"LABEL":"gray"}}]}""".formatted(SVC);

    private static Map<String, Integer> count(Greeter s, int n) {
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < n; i++) {
            seen.merge(s.sayHello("x"), 1, Integer::sum);
        }
        return seen;
    }

    private static void await(BooleanSupplier cond, long millis, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void splitsTrafficNinetyTenByGroupWeight() throws Exception {
        start("", labeledHosts(), "", rules(GRAY_10));
        Map<String, Integer> seen = count(client("any-client"), 3000);
        int g = seen.getOrDefault("gray", 0);
        assertTrue(g > 200 && g < 400, "gray share of 3000 calls should be about 300, was " + seen);
        assertEquals(3000, g + seen.getOrDefault("base1", 0) + seen.getOrDefault("base2", 0));
    }

    @Test
    void sendsMatchingCallersAlwaysToTheGrayGroup() throws Exception {
        start("", labeledHosts(), "", rules(GRAY_10, GRAY_CALLER));
        assertEquals(Map.of("gray", 500), count(client("gray-client"), 500));
        Map<String, Integer> other = count(client("other-client"), 500);
        assertTrue(other.getOrDefault("base1", 0) + other.getOrDefault("base2", 0) > 350, other.toString());
    }

    private static String emptyGroupRule(String name, int priority, boolean otherGroups, boolean lower) {
        return """
                {"name":"%s","app":"hello","service":"%s","priority":%d,
                 "fallback_other_groups":%b,"fallback_lower_priority":%b,
                 "groups":[{"name":"missing","weight":100,"labels":{"LABEL":"nowhere"}},
                           {"name":"gray","weight":0,"labels":{"LABEL":"gray"}}]}""".formatted(name, SVC, priority,
                otherGroups, lower);
    }

    @Test
    void emptyGroupFallsBackToOtherGroupsOnlyWhenSwitchedOn() throws Exception {
        start("", labeledHosts(), "", rules(emptyGroupRule("r", 5, true, false)));
        assertEquals(Map.of("gray", 50), count(client("c"), 50));
        sidecar.close();
        sidecar = null;
        start("", labeledHosts(), "", rules(emptyGroupRule("r", 5, false, false)));
        Greeter s = client("c");
        RuntimeException e = assertThrows(RuntimeException.class, () -> s.sayHello("x"));
        assertTrue(String.valueOf(e.getMessage()).contains("no healthy upstream"), e.getMessage());
    }

    @Test
    void ruleWithoutInstancesFallsToLowerPriorityOnlyWhenSwitchedOn() throws Exception {
        String lowerToBase = """
                {"name":"lower","app":"hello","service":"%s","priority":1,
                 "groups":[{"name":"base","weight":100,"labels":{"LABEL":"base"}}]}""".formatted(SVC);
        start("", labeledHosts(), "", rules(lowerToBase, emptyGroupRule("high", 9, false, true)));
        Map<String, Integer> seen = count(client("c"), 100);
        assertEquals(100, seen.getOrDefault("base1", 0) + seen.getOrDefault("base2", 0), seen.toString());
        sidecar.close();
        sidecar = null;
        start("", labeledHosts(), "", rules(lowerToBase, emptyGroupRule("high", 9, false, false)));
        Greeter s = client("c");
        assertThrows(RuntimeException.class, () -> s.sayHello("x"));
    }

    @Test
    void adminReplacesRulesLiveUnderLoadWithoutFailures() throws Exception {
        start("", labeledHosts(), "", rules(GRAY_10));
        Greeter s = client("c");
        AtomicBoolean run = new AtomicBoolean(true);
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            fs.add(pool.submit(() -> {
                while (run.get()) {
                    try {
                        s.sayHello("x");
                        calls.incrementAndGet();
                    } catch (RuntimeException e) {
                        failures.incrementAndGet();
                    }
                }
            }));
        }
        String allGray = """
                {"rules":[{"name":"all-gray","app":"hello","service":"%s",
                  "groups":[{"name":"gray","weight":100,"labels":{"LABEL":"gray"}}]}]}""".formatted(SVC);
        for (int i = 0; i < 10; i++) {
            assertEquals(200, sidecar.admin("PUT", "/api/v1/label_routing", i % 2 == 0 ? allGray
                    : "{\"rules\":[" + GRAY_10 + "]}").status());
            // Hosts change live too: drop and re-add base2.
            Thread.sleep(30);
        }
        assertEquals(200, sidecar.admin("PUT", "/api/v1/label_routing", allGray).status());
        run.set(false);
        for (Future<?> f : fs) {
            f.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(0, failures.get(), "calls failed while rules changed");
        assertTrue(calls.get() > 50, "only " + calls.get() + " calls");
        assertEquals(Map.of("gray", 20), count(s, 20));
        assertTrue(sidecar.admin("GET", "/api/v1/label_routing", null).body().contains("all-gray"));
        TestSidecar.AdminReply bad = sidecar.admin("PUT", "/api/v1/label_routing",
                "{\"rules\":[{\"groups\":[{\"weight\":60,\"labels\":{}}]}]}");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("add up to 100"), bad.body());
    }

    private Host hostOf(Provider p) {
        for (Host h : sidecar.sidecar().config().current().cluster("hello").hosts()) {
            if (h.address().equals(p.address())) {
                return h;
            }
        }
        throw new AssertionError("no host " + p.address());
    }

    private static final String OUTLIER = """
            ,"outlier_detection":{"window_seconds":5,"min_requests":5,"error_ratio_percent":25,
              "threshold_multiple":2,"max_isolated":%d,"base_isolation_ms":1500,"max_isolation_ms":10000}""";

    @Test
    void isolatesAFailingProviderAndReturnsItAfterTheIsolationPeriod() throws Exception {
        start(OUTLIER.formatted(1), labeledHosts(), "", "{}");
        Greeter s = client("c");
        base1.failing = true;
        int failed = 0;
        for (int i = 0; i < 60; i++) {
            try {
                s.sayHello("x");
            } catch (RuntimeException e) {
                failed++;
            }
        }
        assertTrue(failed >= 5, "failures seen: " + failed);
        await(() -> hostOf(base1).ejected(), 5000, "base1 isolated");
        String clusters = sidecar.admin("GET", "/api/v1/clusters", null).body();
        boolean shown = false;
        for (com.fasterxml.jackson.databind.JsonNode c : new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(clusters).get("clusters")) {
            for (com.fasterxml.jackson.databind.JsonNode h : c.get("hosts")) {
                shown |= h.get("address").asText().equals(base1.address()) && h.get("isolated").asBoolean()
                        && h.get("isolations").asInt() >= 1;
            }
        }
        assertTrue(shown, "the admin clusters view shows the isolation: " + clusters);
        base1.failing = false;
        int before = base1.calls.get();
        Map<String, Integer> seen = count(s, 60);
        assertFalse(seen.containsKey("base1"), "isolated host got traffic: " + seen);
        assertEquals(before, base1.calls.get());
        await(() -> !hostOf(base1).ejected(), 8000, "base1 back from isolation");
        await(() -> count(s, 10).containsKey("base1"), 5000, "traffic to base1 again");
        String log = Files.readString(sidecar.logDir().resolve("fault_tolerance.log"));
        assertTrue(log.contains("isolated for 1500 ms"), log);
        assertTrue(log.contains("returns from isolation"), log);
    }

    @Test
    void neverIsolatesMoreThanTheMaximum() throws Exception {
        start(OUTLIER.formatted(1), labeledHosts(), "", "{}");
        Greeter s = client("c");
        base1.failing = true;
        base2.failing = true;
        for (int i = 0; i < 60; i++) {
            try {
                s.sayHello("x");
            } catch (RuntimeException ignored) {
                // expected
            }
        }
        await(() -> hostOf(base1).ejected() || hostOf(base2).ejected(), 5000, "one isolated");
        // Keep failing for a few evaluations: the second failing host must stay in.
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 20; i++) {
                try {
                    s.sayHello("x");
                } catch (RuntimeException ignored) {
                    // expected
                }
            }
            Thread.sleep(400); // let the once-a-second evaluation run; the assertion is on state, not timing
            assertFalse(hostOf(base1).ejected() && hostOf(base2).ejected(), "both isolated despite max 1");
        }
    }

    @Test
    void killedProviderIsRemovedByHealthChecksWithoutFailedCallsOnAnIdempotentRoute() throws Exception {
        Provider doomed = new Provider("doomed");
        extra.add(doomed);
        String hosts = "[" + host(base1, "base") + "," + host(doomed, "base") + "]";
        start(",\"health_check\":{\"type\":\"heartbeat\",\"interval_ms\":100,\"timeout_ms\":300,"
                        + "\"unhealthy_threshold\":2,\"healthy_threshold\":1}", hosts,
                ",\"retry_policy\":{\"num_retries\":2,\"retry_on\":[\"connect_failure\",\"reset\",\"retriable_status\"],"
                        + "\"idempotent\":true,\"backoff_base_ms\":5,\"backoff_max_ms\":50}", "{}");
        Greeter s = client("c");
        AtomicBoolean run = new AtomicBoolean(true);
        AtomicInteger failures = new AtomicInteger();
        AtomicInteger calls = new AtomicInteger();
        AtomicInteger stoppedReplies = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> fs = new ArrayList<>();
        java.util.Queue<String> errors = new java.util.concurrent.ConcurrentLinkedQueue<>();
        for (int t = 0; t < 4; t++) {
            fs.add(pool.submit(() -> {
                while (run.get()) {
                    try {
                        s.sayHello("x");
                        calls.incrementAndGet();
                    } catch (RuntimeException e) {
                        // SOFARPC's graceful stop (destroy) answers calls it already took with "RPC server stopped":
                        // a reply from the provider itself, the same without a sidecar, and not one a proxy may
                        // retry. Anything else (connect failure, reset, timeout, a call routed to the dead host)
                        // is the sidecar's failure and counts.
                        if (String.valueOf(e.getMessage()).contains("RPC server stopped")) {
                            stoppedReplies.incrementAndGet();
                        } else {
                            failures.incrementAndGet();
                            errors.add(String.valueOf(e.getMessage()));
                        }
                    }
                }
            }));
        }
        await(() -> doomed.calls.get() > 20, 5000, "traffic on doomed");
        doomed.close();
        await(() -> hostOf(doomed).failedHealthCheck(), 5000, "doomed marked unhealthy");
        int after = calls.get();
        await(() -> calls.get() > after + 100, 5000, "more calls");
        run.set(false);
        for (Future<?> f : fs) {
            f.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(0, failures.get(), "failed calls while a provider died: " + errors.peek());
        assertTrue(stoppedReplies.get() <= 4, "at most one stop reply per caller thread: " + stoppedReplies.get());
        assertTrue(Files.readString(sidecar.logDir().resolve("health_check.log")).contains("taken out of load"));
    }

    @Test
    void retriesConnectFailuresOnAnotherHostWithBackoff() throws Exception {
        int dead = TestSidecar.freePort();
        String hosts = "[{\"address\":\"127.0.0.1:" + dead + "\"}," + host(base1, "base") + "]";
        start(",\"lb_policy\":\"round_robin\"", hosts,
                ",\"retry_policy\":{\"num_retries\":1,\"backoff_base_ms\":20,\"backoff_max_ms\":40}", "{}");
        Map<String, Integer> seen = count(client("c"), 40);
        assertEquals(Map.of("base1", 40), seen);
    }

    @Test
    void doesNotRetryAFailureThatMayHaveReachedTheProviderOnANonIdempotentRoute() throws Exception {
        String hosts = "[" + host(base1, "base") + "," + host(base2, "base") + "]";
        start("", hosts, ",\"retry_policy\":{\"num_retries\":2,\"retry_on\":[\"connect_failure\","
                + "\"retriable_status\"],\"backoff_base_ms\":0}", "{}");
        base1.failing = true;
        base2.failing = true;
        Greeter s = client("c");
        int before = base1.calls.get() + base2.calls.get();
        assertThrows(RuntimeException.class, () -> s.sayHello("x"));
        assertEquals(before + 1, base1.calls.get() + base2.calls.get(), "a business error is never retried");
    }

    @Test
    void appHeartbeatClosesAndReopensTheInboundListener() throws Exception {
        BoltApp app = new BoltApp(TestSidecar.freePort());
        RpcClient client = new RpcClient();
        client.startup();
        try {
            sidecar = TestSidecar.start("""
                    {"admin":{"port":0},
                     "listeners":[{"name":"ingress","address":"127.0.0.1:%d","protocol":"bolt","direction":"inbound",
                       "routes":[{"match":{"service":"*"},"cluster":"local_app","timeout_ms":3000}]}],
                     "clusters":[{"name":"local_app","hosts":[{"address":"127.0.0.1:%d"}]}],
                     "extensions":{"app_heartbeat":{"checks":[{"listener":"ingress","address":"127.0.0.1:%d",
                       "interval_ms":100,"timeout_ms":300,"unhealthy_threshold":2,"healthy_threshold":1}]}}}
                    """.formatted(TestSidecar.freePort(), app.port, app.port));
            int port = sidecar.port("ingress");
            assertEquals("echo:a", client.invokeSync("127.0.0.1:" + port, "a", 3000));
            await(() -> sidecar.admin("GET", "/ready", null).status() == 200, 5000, "ready");
            app.close();
            await(() -> !accepts(port), 5000, "listener closed");
            await(() -> sidecar.admin("GET", "/ready", null).status() != 200, 5000, "not ready");
            assertTrue(Files.readString(sidecar.logDir().resolve("health_check.log")).contains("closing listener"));
            app.start();
            await(() -> accepts(port), 10000, "listener reopened");
            await(() -> sidecar.admin("GET", "/ready", null).status() == 200, 5000, "ready again");
            assertEquals("echo:b", client.invokeSync("127.0.0.1:" + port, "b", 3000));
        } finally {
            client.shutdown();
            app.close();
        }
    }

    private static boolean accepts(int port) {
        try (Socket so = new Socket()) {
            so.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}
