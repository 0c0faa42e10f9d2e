package io.remora.filters.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.protocol.ProxyError;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The governance filters inside a real sidecar, over real sockets, with the core's test protocol. */
class GovernanceEngineTest {

    static final String SVC = "com.example.HelloService:1.0";
    private TestUpstream upstream;
    private TestSidecar sidecar;
    private TestClient client;
    private long ids;

    @BeforeEach
    void upstream() throws Exception {
        upstream = new TestUpstream();
    }

    @AfterEach
    void close() throws Exception {
        if (client != null) {
            client.close();
        }
        if (sidecar != null) {
            sidecar.close();
        }
        upstream.close();
    }

    private String config(String governance) {
        return """
                {"admin":{"port":0},"node":{"app":"hello-client"},
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc","direction":"outbound",
                   "routes":[{"match":{"service":"*"},"cluster":"up","timeout_ms":3000}],
                   "filters":[{"type":"access_control"},{"type":"fault_inject"},{"type":"rate_limit"},
                              {"type":"circuit_breaker","config":{}}]}],
                 "clusters":[{"name":"up","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"governance":%s}}
                """.formatted(upstream.port(), governance);
    }

    private void start(String governance) throws Exception {
        sidecar = TestSidecar.start(config(governance));
        client = new TestClient(sidecar.port("out"));
    }

    private TestClient.Reply call(String method, String headers) throws Exception {
        client.send(0, ++ids, 3000, SVC, method, headers, "hi");
        return client.read();
    }

    private TestClient.Reply call() throws Exception {
        return call("sayHello", "");
    }

    private static int status(ProxyError e) {
        return 100 + e.ordinal();
    }

    private static String qps(String name, int threshold) {
        return "{\"name\":\"" + name + "\",\"direction\":\"client\",\"service\":\"" + SVC + "\",\"type\":\"qps\","
                + "\"threshold\":" + threshold + ",\"unit_ms\":3600000}";
    }

    @Test
    void refusesToStartWithAnInvalidRule() {
        ConfigException e = assertThrows(ConfigException.class, () -> TestSidecar.start(config(
                "{\"rate_limit\":[" + qps("ok", 1) + "," + qps("bad", -1) + "]}")));
        assertEquals("extensions.governance.rate_limit[1].threshold", e.path());
    }

    @Test
    void rateLimitRejectsTheExcessWithTheRuleNamed() throws Exception {
        start("{\"rate_limit\":[" + qps("hello-qps", 2) + "]}");
        assertTrue(call().ok());
        assertTrue(call().ok());
        TestClient.Reply r = call();
        assertEquals(status(ProxyError.RATE_LIMITED), r.status());
        assertEquals("rate limited by rule hello-qps", r.payload());
        JsonNode stats = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/rules/stats", null).body());
        assertEquals(2, stats.get("rate_limit").get(0).get("passed").asLong());
        assertEquals(1, stats.get("rate_limit").get(0).get("rejected").asLong());
        String metrics = sidecar.admin("GET", "/metrics", null).body();
        assertTrue(metrics.contains("remora_governance_rule_requests_total{kind=\"rate_limit\",outcome=\"rejected\","
                + "rule=\"hello-qps\"} 1.0"), metrics);
    }

    @Test
    void chainRunsAccessControlBeforeFaultInjectionBeforeRateLimit() throws Exception {
        start("""
                {"access_control":[{"name":"deny-bank","direction":"client","service":"*","type":"blacklist",
                   "conditions":[{"source":"system","field":"caller_app","operator":"equals","value":"bank"}]}],
                 "fault_inject":[{"name":"boom","direction":"client","service":"%s","method":"boom","type":"abort",
                   "abort_status":42}],
                 "rate_limit":[%s]}
                """.formatted(SVC, qps("one", 1)));
        TestClient.Reply denied = call("boom", "app=bank");
        assertEquals(status(ProxyError.UNAUTHORIZED), denied.status());
        assertEquals("access denied by rule deny-bank", denied.payload());
        TestClient.Reply aborted = call("boom", "app=shop");
        assertEquals(42, aborted.status());
        assertEquals("fault injected by rule boom", aborted.payload());
        assertTrue(call("sayHello", "app=shop").ok(), "the aborted calls took no token");
        assertEquals(status(ProxyError.RATE_LIMITED), call("sayHello", "app=shop").status());
    }

    @Test
    void delayInjectionHoldsTheCallThenForwardsIt() throws Exception {
        start("{\"fault_inject\":[{\"name\":\"slow\",\"direction\":\"client\",\"service\":\"" + SVC + "\","
                + "\"type\":\"delay\",\"delay_ms\":300}]}");
        long t0 = System.nanoTime();
        TestClient.Reply r = call();
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(r.ok());
        assertTrue(ms >= 300 && ms < 3000, "took " + ms + " ms");
        assertEquals(1, upstream.requests.size());
        String log = awaitLog("fault_inject.log", "rule=slow");
        assertTrue(log.contains("rule=slow resource=" + SVC + "#* type=delay mode=intercept injected=1"), log);
    }

    /** The log file's text once it contains {@code text} (the reporter writes once a second). */
    private String awaitLog(String file, String text) throws Exception {
        Path log = sidecar.logDir().resolve(file);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String content = "";
        while (System.nanoTime() < deadline) {
            content = Files.exists(log) ? Files.readString(log) : "";
            if (content.contains(text)) {
                break;
            }
            Thread.sleep(100);
        }
        return content;
    }

    @Test
    void adminReplacesOneKindOnTheSameConnectionAndRefusesInvalidRules() throws Exception {
        start("{\"rate_limit\":[" + qps("hello-qps", 1) + "]}");
        assertTrue(call().ok());
        assertEquals(status(ProxyError.RATE_LIMITED), call().status());

        TestSidecar.AdminReply bad = sidecar.admin("PUT", "/api/v1/rules/rate_limit", "[" + qps("good", 5) + ","
                + qps("broken", 0) + "]");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("extensions.governance.rate_limit[1].threshold"), bad.body());
        assertTrue(bad.body().contains("rule \"broken\""), bad.body());
        assertEquals(status(ProxyError.RATE_LIMITED), call().status(), "the running rules stay");

        TestSidecar.AdminReply ok = sidecar.admin("PUT", "/api/v1/rules/rate_limit", "[" + qps("roomy", 3) + "]");
        assertEquals(200, ok.status(), ok.body());
        assertTrue(call().ok());
        assertTrue(call().ok());
        assertTrue(call().ok());
        assertEquals("rate limited by rule roomy", call().payload());
        assertEquals(1, upstream.connections.get());
        JsonNode rules = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/rules", null).body());
        assertEquals("roomy", rules.get("rate_limit").get(0).get("name").asText());
        JsonNode dump = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/config_dump", null).body());
        assertTrue(dump.toString().contains("roomy"), "the change went through the one config model");
    }

    @Test
    void unchangedRuleKeepsItsStateWhenAnotherKindChanges() throws Exception {
        start("{\"rate_limit\":[" + qps("hello-qps", 1) + "]}");
        assertTrue(call().ok());
        assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/fault_inject", "[]").status());
        assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/rate_limit", "[" + qps("hello-qps", 1) + "]").status());
        assertEquals(status(ProxyError.RATE_LIMITED), call().status(), "the bucket was not refilled by re-applying");
    }

    @Test
    void exportImportRoundTripsExactly() throws Exception {
        String all = """
                {"rate_limit":[%s],
                 "circuit_breaker":[{"name":"cb","direction":"client","service":"*","type":"error_ratio",
                   "error_ratio_threshold":0.5}],
                 "fault_inject":[{"name":"f","direction":"server","service":"*","type":"delay","delay_ms":5,
                   "percentage":0.5}],
                 "access_control":[{"name":"a","direction":"client","service":"*","type":"blacklist","mode":"observe",
                   "conditions":[{"source":"header","field":"x","operator":"in","values":["1","2"]}]}]}
                """.formatted(qps("q", 10));
        start("{}");
        assertEquals(200, sidecar.admin("POST", "/api/v1/rules/import", all).status());
        String exported = sidecar.admin("GET", "/api/v1/rules/export", null).body();
        assertEquals(ConfigLoader.mapper().readTree(all), ConfigLoader.mapper().readTree(exported));
        assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/rate_limit", "[]").status());
        assertEquals(200, sidecar.admin("POST", "/api/v1/rules/import", exported).status());
        assertEquals(exported, sidecar.admin("GET", "/api/v1/rules/export", null).body());
        assertEquals(400, sidecar.admin("POST", "/api/v1/rules/import", "{\"rate_limit\":[{}]}").status());
        assertEquals(exported, sidecar.admin("GET", "/api/v1/rules/export", null).body());
    }

    @Test
    void flowControlLogGetsOneLinePerRulePerSecond() throws Exception {
        start("{\"rate_limit\":[" + qps("hello-qps", 1) + "]}");
        call();
        call();
        String text = awaitLog("flow-control.log", "rule=hello-qps");
        assertTrue(text.contains("rule=hello-qps resource=" + SVC + "#* mode=intercept pass=1 block=1"), text);
        assertTrue(text.contains("complete=1 exception=0"), text);
    }
}
