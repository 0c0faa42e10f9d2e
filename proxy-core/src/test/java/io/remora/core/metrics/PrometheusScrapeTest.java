package io.remora.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian package {@code prometheus}; .ci/run installs it) scrapes a sidecar under load, and
 * PromQL over the scraped data returns the request count; {@code promtool check metrics} accepts the exposition.
 * Skipped, with the reason, where the binaries are missing.
 */
class PrometheusScrapeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String ISTIO_UNIT_LINT =
            "istio_request_duration_milliseconds use base unit \"seconds\" instead of \"milliseconds\"";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    private static boolean onPath(String tool) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(d, tool))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void promtoolAcceptsTheExpositionAndPrometheusCountsTheRequests() throws Exception {
        assumeTrue(onPath("prometheus") && onPath("promtool"),
                "prometheus/promtool not installed (apt-get install prometheus); skipping the real-server scrape test");
        int requests = 250;
        try (TestUpstream upstream = new TestUpstream();
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},
                      "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                        "routes":[{"match":{"service":"*"},"cluster":"up"}]}],
                      "clusters":[{"name":"up","hosts":[{"address":"127.0.0.1:%d"}]}]}
                     """.formatted(upstream.port()))) {
            try (TestClient c = new TestClient(sidecar.port("out"))) {
                for (int i = 1; i <= requests; i++) {
                    assertTrue(c.call(i, "svc.Scrape", "m", "x").ok());
                }
            }
            String scrape = sidecar.admin("GET", "/metrics", null).body();
            Process promtool = new ProcessBuilder("promtool", "check", "metrics").redirectErrorStream(true).start();
            promtool.getOutputStream().write(scrape.getBytes(StandardCharsets.UTF_8));
            promtool.getOutputStream().close();
            String lint = new String(promtool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(promtool.waitFor(30, TimeUnit.SECONDS));
            // Istio's own name (its dashboards query it) breaks promtool's base-unit rule; nothing else may
            String unexpected = lint.lines().filter(l -> !l.isBlank())
                    .filter(l -> !l.equals(ISTIO_UNIT_LINT)).collect(java.util.stream.Collectors.joining("\n"));
            assertEquals("", unexpected, "promtool check metrics: " + lint);

            int promPort = TestSidecar.freePort();
            Path cfg = dir.resolve("prometheus.yml");
            Files.writeString(cfg, """
                    global:
                      scrape_interval: 1s
                    scrape_configs:
                      - job_name: remora
                        static_configs:
                          - targets: ["127.0.0.1:%d"]
                    """.formatted(sidecar.adminPort()));
            Process prom = new ProcessBuilder("prometheus", "--config.file=" + cfg,
                    "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + promPort)
                    .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
            try {
                for (String q : new String[] {
                    "sum(remora_downstream_requests_total{job=\"remora\",service=\"svc.Scrape\",result=\"ok\"})",
                    "sum(istio_requests_total{job=\"remora\",reporter=\"source\",destination_service=\"svc.Scrape\","
                            + "response_code=\"200\"})",
                    "sum(istio_request_duration_milliseconds_count{job=\"remora\",destination_service=\"svc.Scrape\"})"}) {
                    double seen = -1;
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (System.nanoTime() < deadline && seen != requests) {
                        seen = query(promPort, q);
                        if (seen != requests) {
                            Thread.sleep(250);
                        }
                    }
                    assertEquals(requests, (int) seen, "PromQL " + q + "; prometheus log: "
                            + Files.readString(dir.resolve("prometheus.log")));
                }
                double p50 = query(promPort, "histogram_quantile(0.5, sum by (le) (istio_request_duration_milliseconds"
                        + "_bucket{job=\"remora\",destination_service=\"svc.Scrape\"}))");
                assertTrue(p50 > 0 && p50 <= 1000, "median request duration from Istio's buckets, ms: " + p50);
            } finally {
                prom.destroy();
                prom.waitFor(10, TimeUnit.SECONDS);
                prom.destroyForcibly();
            }
        }
    }

    private static double query(int port, String promql) throws InterruptedException {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(),
                    HttpResponse.BodyHandlers.ofString());
            JsonNode result = JSON.readTree(r.body()).path("data").path("result");
            return result.size() == 0 ? -1 : result.get(0).get("value").get(1).asDouble();
        } catch (IOException e) {
            return -1;
        }
    }
}
