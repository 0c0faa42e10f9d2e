package io.remora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigLoader;
import io.remora.examples.dubbo.DemoConsumer;
import io.remora.examples.dubbo.DemoProvider;
import io.remora.examples.http.HelloHttpProvider;
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
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every query of the shipped Grafana dashboards (examples/observability/dashboards) against a real Prometheus scraping
 * a real sidecar that carried real SOFARPC, Dubbo and HTTP calls: each query parses and runs, each metric it names is
 * exported by the sidecar (Prometheus has series of it), and the Istio mesh panels return data.
 */
class DashboardQueriesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** Metric names in PromQL: an identifier of ours followed by a selector, a range or the end of a call. */
    private static final Pattern METRIC = Pattern.compile("\\b((?:remora|istio|process|jvm)_[a-zA-Z0-9_]+)\\b");
    private static final Path DASHBOARDS = Path.of("observability", "dashboards");

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
    void everyDashboardQueryRunsOnMetricsTheSidecarExports() throws Exception {
        assumeTrue(onPath("prometheus"), "prometheus not installed (apt-get install prometheus): skipped");
        int boltPort = TestSidecar.freePort();
        int dubboPort = TestSidecar.freePort();
        try (HelloProvider bolt = HelloProvider.start(boltPort);
             DemoProvider dubbo = DemoProvider.start(dubboPort);
             HelloHttpProvider http = HelloHttpProvider.start(0);
             TestSidecar sidecar = TestSidecar.start(config(boltPort, dubboPort, http.port()))) {
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
            try (HelloConsumer c = HelloConsumer.connect("127.0.0.1:" + sidecar.port("egress_bolt"), 10_000);
                 HelloConsumer in = HelloConsumer.connect("127.0.0.1:" + sidecar.port("ingress_bolt"), 10_000);
                 DemoConsumer d = DemoConsumer.connect("127.0.0.1:" + sidecar.port("egress_dubbo"), 10_000)) {
                // traffic all the while Prometheus scrapes, so that no rate is zero
                java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
                java.util.concurrent.atomic.AtomicReference<Throwable> failed =
                        new java.util.concurrent.atomic.AtomicReference<>();
                Thread traffic = new Thread(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        try {
                            call(c, d, sidecar.port("egress_http"), i);
                            assertEquals("hello in" + i, in.sayHello("in" + i));
                            Thread.sleep(20);
                        } catch (Throwable t) {
                            failed.compareAndSet(null, t);
                            return;
                        }
                    }
                }, "dashboard-traffic");
                traffic.start();
                try {
                    checkAll(sidecar, promPort);
                } finally {
                    stop.set(true);
                    traffic.join(10_000);
                }
                assertEquals(null, failed.get(), "the calls under the scrape all succeeded");
            } finally {
                prom.destroy();
                if (!prom.waitFor(10, TimeUnit.SECONDS)) {
                    prom.destroyForcibly();
                }
            }
        }
    }

    /** One sidecar-answered failure, then every dashboard query against Prometheus (traffic runs meanwhile). */
    private static void checkAll(TestSidecar sidecar, int promPort) throws Exception {
        HttpResponse<String> missing = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sidecar.port("egress_http") + "/nowhere")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(503, missing.statusCode(), "a sidecar-answered failure for the failure panels");
        System.gc(); // the GC panel needs one collection to have happened
        String scrape = sidecar.admin("GET", "/metrics", null).body();
        assertTrue(scrape.contains("istio_requests_total{"), "the sidecar exports Istio's metrics:\n"
                + scrape.lines().filter(l -> l.startsWith("istio") || l.contains("istio")).limit(20).toList()
                + "\n" + Files.readString(sidecar.logDir().resolve("default.log")));
        awaitData(promPort, "sum(rate(istio_requests_total[1m]))");
        List<String> problems = new ArrayList<>();
        int queries = 0;
        try (Stream<Path> files = Files.list(DASHBOARDS)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                queries += check(f, promPort, problems);
            }
        }
        assertTrue(queries >= 20, "the dashboards' queries were found: " + queries);
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    private static void call(HelloConsumer c, DemoConsumer d, int httpPort, int i) throws Exception {
        assertEquals("hello " + i, c.sayHello(Integer.toString(i)));
        assertTrue(d.sayHello("d" + i).contains("d" + i));
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                + "/hello?name=h" + i)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
    }

    /** The bundled config on free ports, with a governance rule, an unreachable xDS server and a route to nowhere. */
    private static String config(int boltPort, int dubboPort, int httpPort) throws IOException {
        ObjectNode root = (ObjectNode) ConfigLoader.mapper().readTree(BundledConfig.forTest("remora.json",
                Set.of("egress_bolt", "egress_dubbo", "egress_http"), Map.of("hello_provider", boltPort,
                        "demo_provider", dubboPort, "http_provider", httpPort)));
        for (JsonNode l : root.get("listeners")) {
            if (l.get("name").asText().equals("egress_http")) {
                ArrayNode routes = (ArrayNode) l.get("routes");
                routes.insert(0, ConfigLoader.mapper().readTree(
                        "{\"name\":\"nowhere\",\"match\":{\"prefix\":\"/nowhere\"},\"cluster\":\"empty\"}"));
            }
            ((ObjectNode) l).set("filters", ConfigLoader.mapper().readTree("[{\"type\":\"rate_limit\"}]"));
        }
        ((ArrayNode) root.get("listeners")).add(ConfigLoader.mapper().readTree("""
                {"name":"ingress_bolt","address":"127.0.0.1:0","protocol":"bolt","direction":"inbound",
                 "routes":[{"match":{"service":"*"},"cluster":"hello_provider","timeout_ms":3000}]}"""));
        ((ArrayNode) root.get("clusters")).add(ConfigLoader.mapper().readTree("{\"name\":\"empty\",\"hosts\":[]}"));
        ObjectNode ext = root.putObject("extensions");
        ext.set("governance", ConfigLoader.mapper().readTree("""
                {"rate_limit":[{"name":"hello-qps","direction":"client","service":"com.example.HelloService:1.0",
                  "type":"qps","threshold":100000,"unit_ms":1000}]}"""));
        ext.set("xds", ConfigLoader.mapper().readTree("{\"address\":\"127.0.0.1:" + TestSidecar.freePort()
                + "\",\"initial_fetch_timeout_ms\":1}"));
        return ConfigLoader.mapper().writeValueAsString(root);
    }

    /** Runs every target and variable query of one dashboard; returns how many it ran. */
    private static int check(Path file, int promPort, List<String> problems) throws Exception {
        JsonNode dash = JSON.readTree(file.toFile());
        String name = file.getFileName().toString();
        int n = 0;
        Set<String> metrics = new LinkedHashSet<>();
        for (JsonNode panel : dash.path("panels")) {
            for (JsonNode t : panel.path("targets")) {
                String expr = substitute(t.path("expr").asText());
                n++;
                JsonNode r = query(promPort, expr);
                if (!"success".equals(r.path("status").asText())) {
                    problems.add(name + " / " + panel.path("title").asText() + ": " + expr + " -> " + r);
                    continue;
                }
                if (name.contains("istio") && r.path("data").path("result").size() == 0
                        && !expr.contains("response_code=~\"[45]") && !expr.contains("response_flags!=")) {
                    problems.add(name + " / " + panel.path("title").asText() + ": no data for " + expr);
                }
                Matcher m = METRIC.matcher(expr);
                while (m.find()) {
                    metrics.add(m.group(1));
                }
            }
        }
        for (JsonNode v : dash.path("templating").path("list")) {
            Matcher lv = Pattern.compile("label_values\\((\\w+), *(\\w+)\\)").matcher(v.path("query").asText());
            if (lv.find()) {
                n++;
                metrics.add(lv.group(1));
                JsonNode r = query(promPort, "count by (" + lv.group(2) + ") (" + lv.group(1) + ")");
                if (r.path("data").path("result").size() == 0) {
                    problems.add(name + " variable " + v.path("name").asText() + ": no values of " + lv.group(2));
                }
            }
        }
        for (String metric : metrics) {
            JsonNode r = query(promPort, "count({__name__=\"" + metric + "\"})");
            if (r.path("data").path("result").size() == 0) {
                problems.add(name + ": the sidecar exports no " + metric);
            }
        }
        assertFalse(metrics.isEmpty(), name);
        return n;
    }

    /** Grafana's variables as a dashboard opened with "All" and default intervals would send them. */
    private static String substitute(String expr) {
        return expr.replace("$__rate_interval", "1m").replace("$__range", "5m").replace("$__interval", "15s")
                .replace("$reporter", ".*").replace("$service", ".*");
    }

    private static void awaitData(int port, String promql) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JsonNode r = query(port, promql);
            JsonNode res = r.path("data").path("result");
            if (res.size() > 0 && res.get(0).path("value").get(1).asDouble() > 0) {
                return;
            }
            Thread.sleep(250); // Prometheus scrapes on its own schedule; nothing to await on
        }
        HttpResponse<String> targets = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/v1/targets")).build(), HttpResponse.BodyHandlers.ofString());
        throw new AssertionError("Prometheus has no data for " + promql + "; its targets: " + targets.body());
    }

    private static JsonNode query(int port, String promql) throws InterruptedException {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8))).build(),
                    HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            return JSON.createObjectNode().put("status", "unreachable: " + e);
        }
    }
}
