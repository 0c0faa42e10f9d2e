package io.remora.filters.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigLoader;
import io.remora.testkit.dubbo.DemoConsumer;
import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.dubbo.rpc.RpcException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Governance end to end over Dubbo: real Apache Dubbo 3 consumers (retries 0, so one call is one request) call a real
 * Dubbo provider through the sidecar's {@code dubbo} listener; the rules see the Dubbo interface as the service and the
 * consumer's application name ({@code remote.application}) as the caller app.
 */
class DubboGovernanceTest {

    static final String SVC = DemoService.class.getName();
    private static DemoProvider provider;
    private final List<DemoConsumer> consumers = new ArrayList<>();
    private TestSidecar sidecar;

    @BeforeAll
    static void startProvider() {
        provider = DemoProvider.start("p1");
    }

    @AfterAll
    static void stopProvider() {
        provider.close();
    }

    @AfterEach
    void stop() {
        consumers.forEach(DemoConsumer::close);
        if (sidecar != null) {
            sidecar.close();
        }
    }

    private void start(String governance) throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"egress","address":"127.0.0.1:0","protocol":"dubbo","direction":"outbound",
                   "routes":[{"match":{"service":"*"},"cluster":"demo","timeout_ms":5000}],
                   "filters":[{"type":"access_control"},{"type":"fault_inject"},{"type":"rate_limit"},
                              {"type":"circuit_breaker"}]}],
                 "clusters":[{"name":"demo","protocol":"dubbo","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"governance":%s}}
                """.formatted(provider.port(), governance));
    }

    private DemoService consumer(String app) {
        DemoConsumer c = new DemoConsumer(app);
        consumers.add(c);
        return c.demo(sidecar.port("egress"), "g1", 5000, 0);
    }

    private static String rule(String name, String fields) {
        return "{\"name\":\"" + name + "\",\"direction\":\"client\",\"service\":\"" + SVC + "\"," + fields + "}";
    }

    /** The RpcException of a failed call (with its causes' messages), or null if the call succeeded. */
    private static String failure(Supplier<String> call) {
        try {
            call.get();
            return null;
        } catch (RpcException e) {
            StringBuilder sb = new StringBuilder("code=" + e.getCode() + " ");
            for (Throwable t = e; t != null; t = t.getCause()) {
                sb.append(t.getMessage()).append(" | ");
            }
            return sb.toString();
        }
    }

    private static void assertFailsWith(String text, Supplier<String> call) {
        String m = failure(call);
        assertTrue(m != null && m.contains(text), "expected an RpcException containing \"" + text + "\", got " + m);
    }

    private long stat(String kind, String name, String field) throws Exception {
        JsonNode s = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/rules/stats", null).body());
        for (JsonNode r : s.get(kind)) {
            if (r.get("name").asText().equals(name)) {
                return r.get(field).asLong();
            }
        }
        throw new AssertionError(name + " not in " + s);
    }

    @Test
    void qpsRuleRejectsTheExcessWithTheRuleNamedInTheRpcException() throws Exception {
        start("{\"rate_limit\":[" + rule("demo-qps", "\"type\":\"qps\",\"threshold\":3,\"unit_ms\":3600000") + "]}");
        DemoService d = consumer("shop");
        for (int i = 0; i < 3; i++) {
            assertEquals("hello a from p1", d.sayHello("a"));
        }
        assertFailsWith("rate limited by rule demo-qps", () -> d.sayHello("a"));
        assertFailsWith("rate limited by rule demo-qps", () -> d.sayHello("a"));
        assertEquals(3, stat("rate_limit", "demo-qps", "passed"));
        assertEquals(2, stat("rate_limit", "demo-qps", "rejected"), "retries 0: one rejection per call");
    }

    @Test
    void blacklistOnTheConsumersApplicationNameDenies() throws Exception {
        start("{\"access_control\":[" + rule("no-bank", "\"type\":\"blacklist\",\"conditions\":[{\"source\":"
                + "\"system\",\"field\":\"caller_app\",\"operator\":\"equals\",\"value\":\"bank\"}]") + "]}");
        assertFailsWith("access denied by rule no-bank", () -> consumer("bank").sayHello("b"));
        assertEquals("hello s from p1", consumer("shop").sayHello("s"));
        assertEquals(1, stat("access_control", "no-bank", "rejected"));
    }

    @Test
    void headerConditionOnAnAttachmentSelectsTheCaller() throws Exception {
        start("{\"access_control\":[" + rule("only-shop", "\"type\":\"whitelist\",\"conditions\":[{\"source\":"
                + "\"header\",\"field\":\"remote.application\",\"operator\":\"in\",\"values\":[\"shop\"]}]") + "]}");
        assertEquals("hello s from p1", consumer("shop").sayHello("s"));
        assertFailsWith("access denied by rule only-shop", () -> consumer("cart").sayHello("c"));
    }

    @Test
    void abortInjectionFailsTheCallWithoutReachingTheProvider() throws Exception {
        start("{\"fault_inject\":[" + rule("boom", "\"type\":\"abort\",\"method\":\"sayHello\"") + ","
                + rule("server-error", "\"type\":\"abort\",\"method\":\"large\",\"abort_status\":80") + "]}");
        DemoService d = consumer("shop");
        assertFailsWith("fault injected by rule boom", () -> d.sayHello("x"));
        String m = failure(() -> d.large("abc"));
        assertTrue(m != null, "an abort with a native status fails the call");
        assertEquals("async hello y from p1", d.sayHelloAsync("y").join(), "other methods pass");
        assertEquals(1, stat("fault_inject", "boom", "injected"));
        assertEquals(1, stat("fault_inject", "server-error", "injected"));
    }
}
