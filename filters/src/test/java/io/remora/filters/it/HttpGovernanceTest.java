package io.remora.filters.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Governance end to end over HTTP: the JDK HttpClient calls a JDK HttpServer through the sidecar's {@code http}
 * listener. For HTTP the rule's service is the host, the caller app the {@code x-caller-app} header, and a refusal is
 * an HTTP status with {@code x-remora-error} and a {@code remora: <cause>: <detail>} body.
 */
class HttpGovernanceTest {

    private static HttpServer upstream;
    private static final AtomicInteger calls = new AtomicInteger();
    private static volatile boolean failing;
    private static final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private TestSidecar sidecar;

    @BeforeAll
    static void startUpstream() throws IOException {
        // The JDK server writes head and body separately; without TCP_NODELAY each answer waits for a delayed ACK.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.createContext("/", ex -> {
            calls.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            byte[] body = (failing ? "broken" : "ok " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(failing ? 500 : 200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        upstream.start();
    }

    @AfterAll
    static void stopUpstream() {
        upstream.stop(0);
    }

    @AfterEach
    void stop() {
        failing = false;
        if (sidecar != null) {
            sidecar.close();
        }
    }

    private void start(String governance) throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"egress_http","address":"127.0.0.1:0","protocol":"http","direction":"outbound",
                   "routes":[{"match":{"service":"*"},"cluster":"web","timeout_ms":5000}],
                   "filters":[{"type":"access_control"},{"type":"fault_inject"},{"type":"rate_limit"},
                              {"type":"circuit_breaker"}]}],
                 "clusters":[{"name":"web","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"governance":%s}}
                """.formatted(upstream.getAddress().getPort(), governance));
    }

    /** A client-side rule on the service {@code 127.0.0.1} (the request's host). */
    private static String rule(String name, String fields) {
        return "{\"name\":\"" + name + "\",\"direction\":\"client\",\"service\":\"127.0.0.1\"," + fields + "}";
    }

    private HttpResponse<String> get(String path, String callerApp) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + sidecar.port("egress_http") + path)).timeout(Duration.ofSeconds(10));
        if (callerApp != null) {
            b.header("x-caller-app", callerApp);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void assertRefused(HttpResponse<String> r, int status, String cause, String text) {
        assertEquals(status, r.statusCode(), r.body());
        assertEquals(cause, r.headers().firstValue("x-remora-error").orElse(null));
        assertTrue(r.body().contains(text), r.body());
    }

    @Test
    void qpsRuleAnswers429WithTheRuleNamed() throws Exception {
        start("{\"rate_limit\":[" + rule("web-qps", "\"type\":\"qps\",\"threshold\":3,\"unit_ms\":3600000") + "]}");
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = get("/a", "shop");
            assertEquals(200, r.statusCode());
            assertEquals("ok /a", r.body());
        }
        int before = calls.get();
        assertRefused(get("/a", "shop"), 429, "rate_limited", "rate limited by rule web-qps");
        assertEquals(before, calls.get(), "a refused request never reaches the upstream");
    }

    @Test
    void accessControlOnTheCallerAppHeaderAnswers403() throws Exception {
        start("{\"access_control\":[" + rule("shop-only", "\"type\":\"whitelist\",\"conditions\":[{\"source\":"
                + "\"system\",\"field\":\"caller_app\",\"operator\":\"equals\",\"value\":\"shop\"}]") + "]}");
        assertEquals(200, get("/x", "shop").statusCode());
        assertRefused(get("/x", "bank"), 403, "unauthorized", "access denied by rule shop-only");
        assertRefused(get("/x", null), 403, "unauthorized", "access denied by rule shop-only");
    }

    @Test
    void breakerOpensOnUpstream5xxAndAnswers503WhileOpen() throws Exception {
        start("{\"circuit_breaker\":[" + rule("web-cb", "\"type\":\"error_ratio\",\"min_requests\":4,"
                + "\"error_ratio_threshold\":0.5,\"open_duration_ms\":60000") + "]}");
        failing = true;
        for (int i = 0; i < 4; i++) {
            HttpResponse<String> r = get("/f", "shop");
            assertEquals(500, r.statusCode(), "the upstream's own 5xx is passed through");
            assertEquals("broken", r.body());
        }
        failing = false;
        int before = calls.get();
        for (int i = 0; i < 3; i++) {
            assertRefused(get("/f", "shop"), 503, "circuit_open", "circuit open by rule web-cb");
        }
        assertEquals(before, calls.get(), "failing fast: the upstream is not called while open");
    }

    @Test
    void abortInjectionUsesTheNativeStatusOrTheFaultError() throws Exception {
        start("{\"fault_inject\":[" + rule("teapot", "\"type\":\"abort\",\"method\":\"POST\",\"abort_status\":418")
                + "," + rule("boom", "\"type\":\"abort\",\"method\":\"GET\"") + "]}");
        assertRefused(get("/g", "shop"), 503, "fault_injected", "fault injected by rule boom");
        HttpResponse<String> post = client.send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + sidecar.port("egress_http") + "/p"))
                .POST(HttpRequest.BodyPublishers.ofString("body")).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(418, post.statusCode(), post.body());
    }
}
