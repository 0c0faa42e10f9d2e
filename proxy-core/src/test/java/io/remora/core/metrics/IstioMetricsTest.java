package io.remora.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.config.SidecarConfig;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Istio's standard metrics from real traffic: names, labels, buckets, the RPC outcome mapping, the cardinality cap. */
class IstioMetricsTest {

    private static final String CONFIG = """
            {"admin":{"port":0}, "node":{"id":"n1","app":"shop","cluster":"c1",
               "labels":{"version":"v2","namespace":"prod","workload":"shop-v2"}}, %s
             "listeners":[
               {"name":"out","address":"127.0.0.1:0","protocol":"testrpc","direction":"outbound",
                "routes":[{"match":{"service":"svc.Echo"},"cluster":"up"},{"match":{"service":"svc.Gone"},"cluster":"none"}]},
               {"name":"in","address":"127.0.0.1:0","protocol":"testrpc","direction":"inbound",
                "routes":[{"match":{"service":"*"},"cluster":"up"}]}],
             "clusters":[{"name":"up","hosts":[{"address":"127.0.0.1:%d"}]},{"name":"none","hosts":[]}]}
            """;

    private static String line(String scrape, String name, String... labels) {
        return Arrays.stream(scrape.split("\n")).filter(l -> l.startsWith(name + "{"))
                .filter(l -> Arrays.stream(labels).allMatch(l::contains)).findFirst().orElse(null);
    }

    private static double value(String line) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
    }

    @Test
    void reportsRequestsWithIstioNamesLabelsAndBuckets() throws Exception {
        try (TestUpstream up = new TestUpstream(); TestSidecar s = TestSidecar.start(CONFIG.formatted("", up.port()))) {
            try (TestClient out = new TestClient(s.port("out")); TestClient in = new TestClient(s.port("in"))) {
                for (int i = 1; i <= 3; i++) {
                    assertTrue(out.call(i, "svc.Echo", "echo", "x").ok());
                }
                assertTrue(in.call(9, "svc.Echo", "echo", "y").ok());
                assertFalse(out.call(10, "svc.Gone", "echo", "z").ok());
                assertFalse(out.call(11, "svc.Echo", "fail", "b").ok());
            }
            String m = s.admin("GET", "/metrics", null).body();
            String ok = line(m, "istio_requests_total", "reporter=\"source\"", "destination_service=\"svc.Echo\"",
                    "response_code=\"200\"");
            assertEquals(3.0, value(ok), ok);
            assertTrue(ok.contains("source_workload=\"shop-v2\"") && ok.contains("source_app=\"shop\"")
                    && ok.contains("source_version=\"v2\"") && ok.contains("source_workload_namespace=\"prod\"")
                    && ok.contains("source_cluster=\"c1\"") && ok.contains("request_protocol=\"testrpc\"")
                    && ok.contains("response_flags=\"-\"") && ok.contains("destination_workload=\"unknown\""), ok);
            String server = line(m, "istio_requests_total", "reporter=\"destination\"");
            assertTrue(server.contains("destination_workload=\"shop-v2\"") && server.contains("destination_app=\"shop\""),
                    server);
            String noRoute = line(m, "istio_requests_total", "destination_service=\"svc.Gone\"");
            assertTrue(noRoute.contains("response_code=\"503\"") && noRoute.contains("response_flags=\"UH\""), noRoute);
            String business = line(m, "istio_requests_total", "destination_service=\"svc.Echo\"",
                    "response_code=\"500\"");
            assertTrue(business != null && business.contains("response_flags=\"-\""), m);
            for (String le : new String[] {"0.5", "1.0", "5.0", "10.0", "25.0", "3600000.0"}) {
                assertTrue(line(m, "istio_request_duration_milliseconds_bucket", "le=\"" + le + "\"") != null,
                        "duration bucket " + le + " in\n" + m);
            }
            assertTrue(line(m, "istio_request_bytes_bucket", "le=\"1.0E7\"") != null
                    || line(m, "istio_request_bytes_bucket", "le=\"10000000.0\"") != null, m);
            assertTrue(line(m, "istio_response_bytes_count", "reporter=\"source\"") != null);
            String opened = line(m, "istio_tcp_connections_opened_total", "reporter=\"source\"");
            assertTrue(value(opened) >= 1, opened);
            assertTrue(value(line(m, "istio_tcp_received_bytes_total", "reporter=\"source\"")) > 0);
        }
    }

    @Test
    void switchesOffAndBoundsTheSeries() throws Exception {
        try (TestUpstream up = new TestUpstream()) {
            try (TestSidecar s = TestSidecar.start(CONFIG.formatted("\"metrics\":{\"istio\":false},", up.port()));
                 TestClient c = new TestClient(s.port("out"))) {
                assertTrue(c.call(1, "svc.Echo", "echo", "x").ok());
                assertFalse(s.admin("GET", "/metrics", null).body().contains("istio_"));
            }
            String cfg = CONFIG.formatted("\"metrics\":{\"istio_max_label_sets\":2},", up.port())
                    .replace("{\"match\":{\"service\":\"svc.Echo\"},\"cluster\":\"up\"}",
                            "{\"match\":{\"service\":\"*\"},\"cluster\":\"up\"}");
            try (TestSidecar s = TestSidecar.start(cfg); TestClient c = new TestClient(s.port("out"))) {
                for (int i = 0; i < 10; i++) {
                    assertTrue(c.call(i + 1, "svc.S" + i, "echo", "x").ok());
                }
                String m = s.admin("GET", "/metrics", null).body();
                long series = Arrays.stream(m.split("\n")).filter(l -> l.startsWith("istio_requests_total{")).count();
                assertEquals(3, series, "two services and one 'other' for the rest:\n" + m);
                assertEquals(8.0, value(line(m, "istio_requests_total", "destination_service=\"other\"")));
            }
        }
    }

    @Test
    void takesTheWorkloadFromIstioPodVariables() {
        IstioMetrics.Workload w = IstioMetrics.Workload.from(new SidecarConfig.Node("n", null, null, null),
                Map.of("POD_NAME", "reviews-v1-5d9c7c8b-x8k2p", "POD_NAMESPACE", "bookinfo",
                        "ISTIO_META_CLUSTER_ID", "Kubernetes"));
        assertEquals("reviews-v1", w.workload());
        assertEquals("bookinfo", w.namespace());
        assertEquals("Kubernetes", w.cluster());
        assertEquals("unknown", w.app());
    }
}
