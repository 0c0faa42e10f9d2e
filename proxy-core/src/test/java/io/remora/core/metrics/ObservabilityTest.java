package io.remora.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Prometheus scrape output, the stats/clusters views and the digest logs after real calls through the sidecar. */
class ObservabilityTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static TestUpstream upstream;
    private static TestSidecar sidecar;

    @BeforeAll
    static void start() throws Exception {
        upstream = new TestUpstream();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads":1, "node":{"app":"caller-app"}, "metrics":{"port":0},
                 "listeners":[
                   {"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                    "routes":[{"match":{"service":"svc.Echo"},"cluster":"echo"}]},
                   {"name":"in","address":"127.0.0.1:0","protocol":"testrpc","direction":"inbound",
                    "routes":[{"match":{"service":"*"},"cluster":"echo"}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d","labels":{"zone":"z1"}}]}]}
                """.formatted(upstream.port()));
        try (TestClient c = new TestClient(sidecar.port("out")); TestClient in = new TestClient(sidecar.port("in"))) {
            c.send(0, 1, 3000, "svc.Echo", "echo", "rpc_trace_context.sofaTraceId=trace-1", "hello");
            assertTrue(c.read().ok());
            c.send(0, 2, 3000, "svc.Echo", "fail", "", "");
            assertEquals(1, c.read().status());
            c.send(0, 3, 200, "svc.Echo", "sleep", "", "2000");
            c.read();
            c.send(0, 4, 3000, "svc.Nowhere", "m", "", "");
            c.read();
            assertTrue(in.call(5, "svc.Inbound", "echo", "x").ok());
        }
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        upstream.close();
    }

    private static double sample(String scrape, String name, String... labels) {
        for (String line : scrape.split("\n")) {
            if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) {
                continue;
            }
            boolean all = true;
            for (String l : labels) {
                all &= line.contains(l);
            }
            if (all) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }

    @Test
    void scrapeCountsRequestsByServiceMethodAndResult() {
        String scrape = sidecar.admin("GET", "/metrics", null).body();
        assertEquals(1.0, sample(scrape, "remora_downstream_requests_total", "service=\"svc.Echo\"",
                "method=\"echo\"", "result=\"ok\""), scrape);
        assertEquals(1.0, sample(scrape, "remora_downstream_requests_total", "method=\"fail\"",
                "result=\"business_error\""));
        assertEquals(1.0, sample(scrape, "remora_downstream_requests_total", "method=\"sleep\"",
                "result=\"timeout\""));
        assertEquals(1.0, sample(scrape, "remora_downstream_requests_total", "service=\"svc.Nowhere\"",
                "result=\"routing_failure\""));
        assertEquals(1.0, sample(scrape, "remora_upstream_request_failures_total", "cluster=\"echo\"",
                "cause=\"timeout\""));
        assertTrue(sample(scrape, "remora_downstream_request_duration_seconds_count", "listener=\"out\"") >= 4);
        assertTrue(scrape.contains("remora_downstream_request_duration_seconds_bucket{"), "a histogram");
        assertEquals(1.0, sample(scrape, "remora_upstream_connections_opened_total", "host=\"127.0.0.1:"
                + upstream.port() + "\""));
        assertEquals(0.0, sample(scrape, "remora_upstream_pending_requests", "cluster=\"echo\""));
        assertTrue(sample(scrape, "remora_downstream_received_bytes_total", "listener=\"out\"") > 0);
        assertTrue(sample(scrape, "process_resident_memory_bytes") > 0);
        assertTrue(scrape.contains("jvm_memory_used_bytes"));
        assertTrue(scrape.contains("jvm_gc_"));
        assertTrue(scrape.contains("remora_event_loop_pending_tasks"));
    }

    @Test
    void dedicatedMetricsPortServesTheSameScrape() throws Exception {
        int port = sidecar.sidecar().metricsAddress().getPort();
        var client = java.net.http.HttpClient.newHttpClient();
        var resp = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, resp.statusCode());
        assertTrue(resp.body().contains("remora_downstream_requests_total"));
    }

    @Test
    void statsFiltersByPrefixAndClustersShowsSuccessRate() throws Exception {
        JsonNode stats = JSON.readTree(sidecar.admin("GET", "/api/v1/stats?prefix=remora_upstream", null).body());
        assertTrue(stats.size() > 0);
        stats.forEach(m -> assertTrue(m.get("name").asText().startsWith("remora_upstream")));
        JsonNode clusters = JSON.readTree(sidecar.admin("GET", "/api/v1/clusters", null).body());
        JsonNode host = clusters.get("clusters").get(0).get("hosts").get(0);
        assertEquals("z1", host.get("labels").get("zone").asText());
        assertEquals("healthy", host.get("health").asText());
        assertEquals(false, host.get("isolated").asBoolean());
        assertEquals(0, host.get("isolations").asInt());
        assertTrue(host.get("requests").asLong() >= 3);
        assertTrue(host.get("success_rate").asDouble() < 100.0, "the business error and timeout count as failures");
    }

    @Test
    void digestLogsRecordEveryCallWithItsResultCode() throws Exception {
        Path client = sidecar.logDir().resolve("rpc-client-digest.log");
        Path server = sidecar.logDir().resolve("rpc-server-digest.log");
        List<String[]> lines = awaitLines(client, 4);
        // time,app,traceId,rpcId,service,method,protocol,callType,target,targetApp,result,reqBytes,respBytes,totalMs,proxyUs,callerIp
        String[] ok = find(lines, "echo");
        assertEquals(16, ok.length, String.join(",", ok));
        assertTrue(ok[0].matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}"), ok[0]);
        assertEquals("caller-app", ok[1]);
        assertEquals("svc.Echo", ok[4]);
        assertEquals("testrpc", ok[6]);
        assertEquals("sync", ok[7]);
        assertEquals("127.0.0.1:" + upstream.port(), ok[8]);
        assertEquals("00", ok[10]);
        assertTrue(Integer.parseInt(ok[11]) > 0 && Integer.parseInt(ok[12]) > 0);
        assertTrue(Double.parseDouble(ok[13]) >= 0);
        assertTrue(Long.parseLong(ok[14]) >= 0);
        assertEquals("127.0.0.1", ok[15]);
        assertEquals("01", find(lines, "fail")[10]);
        assertEquals("03", find(lines, "sleep")[10]);
        String[] noRoute = find(lines, "m");
        assertEquals("04", noRoute[10]);
        assertEquals("-", noRoute[8], "no target for a routing failure");
        List<String[]> inbound = awaitLines(server, 1);
        assertEquals("svc.Inbound", inbound.get(0)[4]);
    }

    private static String[] find(List<String[]> lines, String method) {
        return lines.stream().filter(l -> l.length > 5 && l[5].equals(method)).findFirst()
                .orElseThrow(() -> new AssertionError("no digest line for method " + method));
    }

    private static final Pattern LINE = Pattern.compile("^\\S+ \\S+ \\S+\\s+\\[[^]]*] \\S+ - (.*)$");

    private static List<String[]> awaitLines(Path file, int n) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        List<String[]> out = List.of();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file)) {
                out = Files.readAllLines(file).stream().map(l -> {
                    Matcher m = LINE.matcher(l);
                    return (m.matches() ? m.group(1) : l).split(",", -1);
                }).toList();
                if (out.size() >= n) {
                    return out;
                }
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("expected " + n + " lines in " + file + ", got " + out.size());
    }
}
