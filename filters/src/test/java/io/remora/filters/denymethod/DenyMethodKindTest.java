package io.remora.filters.denymethod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigLoader;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.core.protocol.ProxyError;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.filters.rules.RuleKind;
import io.remora.filters.rules.RuleKinds;
import io.remora.testing.TestSidecar;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A new rule kind is one class and its config record: {@link DenyMethodKind}, registered by the same two
 * META-INF/services lines as the built-in kinds, is validated, enforced, counted, exported and replaced at run time in
 * a real sidecar over real sockets.
 */
class DenyMethodKindTest {

    static final String SVC = "com.example.HelloService:1.0";
    @TempDir
    Path plugin;
    private URLClassLoader pluginClassPath;
    private TestUpstream upstream;
    private TestSidecar sidecar;
    private TestClient client;
    private long ids;

    @BeforeEach
    void start() throws Exception {
        upstream = new TestUpstream();
        // The kind's service lines on a class path only this sidecar sees, so the other tests keep the four kinds.
        Path services = Files.createDirectories(plugin.resolve("META-INF/services"));
        Files.writeString(services.resolve(StreamFilterFactory.class.getName()), DenyMethodKind.class.getName());
        Files.writeString(services.resolve(RuleKind.class.getName()), DenyMethodKind.class.getName());
        Thread t = Thread.currentThread();
        ClassLoader before = t.getContextClassLoader();
        pluginClassPath = new URLClassLoader(new URL[] {plugin.toUri().toURL()}, before);
        t.setContextClassLoader(pluginClassPath);
        try {
            sidecar = TestSidecar.start("""
                    {"admin":{"port":0},"node":{"app":"hello-client"},
                     "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc","direction":"outbound",
                       "routes":[{"match":{"service":"*"},"cluster":"up","timeout_ms":3000}],
                       "filters":[{"type":"deny_method"},{"type":"rate_limit"}]}],
                     "clusters":[{"name":"up","hosts":[{"address":"127.0.0.1:%d"}]}],
                     "extensions":{"governance":{"deny_method":[{"name":"no-drop","direction":"client",
                       "service":"%s","method":"drop","unless_header":"x-break-glass"}]}}}
                    """.formatted(upstream.port(), SVC));
        } finally {
            t.setContextClassLoader(before);
        }
        client = new TestClient(sidecar.port("out"));
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
        pluginClassPath.close();
    }

    private TestClient.Reply call(String method, String headers) throws Exception {
        client.send(0, ++ids, 3000, SVC, method, headers, "hi");
        return client.read();
    }

    private JsonNode admin(String path) throws Exception {
        return ConfigLoader.mapper().readTree(sidecar.admin("GET", path, null).body());
    }

    @Test
    void refusesTheCoveredMethodCountsItAndServesItsRulesLikeEveryKind() throws Exception {
        TestClient.Reply denied = call("drop", "");
        assertEquals(100 + ProxyError.UNAUTHORIZED.ordinal(), denied.status());
        assertEquals("method denied by rule no-drop", denied.payload());
        assertTrue(call("drop", "x-break-glass=1").ok(), "its own decision: the header lets the call through");
        assertTrue(call("sayHello", "").ok(), "another method: not covered");
        assertEquals(2, upstream.requests.size());

        JsonNode stats = admin("/api/v1/rules/stats").get("deny_method").get(0);
        assertEquals("no-drop", stats.get("name").asText());
        assertEquals(1, stats.get("passed").asLong());
        assertEquals(1, stats.get("rejected").asLong());
        String metrics = sidecar.admin("GET", "/metrics", null).body();
        assertTrue(metrics.contains("remora_governance_rule_requests_total{kind=\"deny_method\",outcome=\"rejected\","
                + "rule=\"no-drop\"} 1.0"), metrics);
        List<String> kinds = List.of("rate_limit", "circuit_breaker", "fault_inject", "access_control", "deny_method");
        assertEquals(kinds, fieldNames(admin("/api/v1/rules/export")));
    }

    @Test
    void isValidatedAndReplacedThroughTheAdminApiWithObserveModeForFree() throws Exception {
        TestSidecar.AdminReply bad = sidecar.admin("PUT", "/api/v1/rules/deny_method",
                "[{\"name\":\"x\",\"direction\":\"client\",\"service\":\"*\",\"unless_header\":5}]");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("extensions.governance.deny_method[0].unless_header: must be a string"),
                bad.body());
        assertEquals("method denied by rule no-drop", call("drop", "").payload(), "the running rule stays");

        assertEquals(200, sidecar.admin("PUT", "/api/v1/rules/deny_method", "[{\"name\":\"watch-drop\","
                + "\"direction\":\"client\",\"service\":\"*\",\"method\":\"drop\",\"mode\":\"observe\"}]").status());
        assertTrue(call("drop", "").ok());
        JsonNode stats = admin("/api/v1/rules/stats").get("deny_method").get(0);
        assertEquals(1, stats.get("observed_rejected").asLong());
        assertEquals(0, stats.get("rejected").asLong());
    }

    @Test
    void guideShowsTheWholeKind() throws Exception {
        String source = Files.readString(Path.of("src/test/java/io/remora/filters/denymethod/DenyMethodKind.java"));
        String guide = Files.readString(Path.of("../docs/governance.md"));
        assertTrue(guide.contains(source.substring(source.indexOf("public final class"))), "docs/governance.md");
    }

    @Test
    void staysOnTheClassPathOfItsSidecarOnly() {
        assertNull(RuleKinds.load().named("deny_method"));
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> out = new java.util.ArrayList<>();
        n.fieldNames().forEachRemaining(out::add);
        return out;
    }
}
