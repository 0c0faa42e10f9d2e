package io.remora.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.admin.AdminClient.Reply;
import io.remora.core.config.ConfigLoader;
import io.remora.core.testproto.TestClient;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Envoy's admin paths ({@code source/server/admin}) over a real socket against a started sidecar: Envoy's parameters,
 * status codes and formats (text lines, protobuf-JSON shapes), built from our snapshot, meters and listeners.
 */
class EnvoyAdminApiTest {

    private AdminFixture f;
    private AdminClient admin;

    @BeforeEach
    void setUp() throws Exception {
        f = AdminFixture.start();
        admin = f.admin;
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    private void oneCall() throws IOException {
        try (TestClient c = new TestClient(f.sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "x").ok());
        }
    }

    private static List<String> types(JsonNode dump) {
        List<String> t = new ArrayList<>();
        dump.get("configs").forEach(c -> t.add(c.get("@type").asText()));
        return t;
    }

    @Test
    void readyPrintsTheServerStateAnd200WhenLive() {
        Reply r = admin.get("/ready");
        assertEquals(200, r.status());
        assertTrue(r.isText(), r.contentType());
        assertEquals("LIVE\n", r.body());
    }

    @Test
    void statsPrintsNameColonValueLinesWithFilterUsedonlyAndType() throws Exception {
        oneCall();
        Reply r = admin.get("/stats");
        assertEquals(200, r.status());
        assertTrue(r.isText());
        List<String> lines = r.lines();
        for (String l : lines) {
            assertTrue(l.matches("[A-Za-z0-9_.\\-]+: (-?[0-9.]+|No recorded values|P0\\(.*)"), l);
        }
        assertTrue(lines.contains("server.state: 0"), r.body());
        assertTrue(lines.contains("listener_manager.workers_started: 1"), r.body());
        assertTrue(lines.contains("remora_downstream_connections.listener.out: 1"), r.body());
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("remora_upstream_request_duration.cluster.echo: P0(")),
                r.body());

        List<String> server = admin.get("/stats?filter=%5Eserver%5C.").lines();
        assertFalse(server.isEmpty());
        server.forEach(l -> assertTrue(l.startsWith("server."), l));
        assertTrue(lines.contains("remora_downstream_connections.listener.in: 0"), r.body());
        List<String> used = admin.get("/stats?usedonly").lines();
        assertFalse(used.contains("remora_downstream_connections.listener.in: 0"), "a counter that never counted");
        assertTrue(used.contains("remora_downstream_connections.listener.out: 1"));
        List<String> counters = admin.get("/stats?type=Counters").lines();
        assertTrue(counters.contains("remora_downstream_connections.listener.out: 1"));
        assertFalse(counters.contains("server.state: 0"), "server.state is a gauge");

        assertEquals("Invalid re2 regex\n", admin.get("/stats?filter=(").body());
        assertEquals(400, admin.get("/stats?filter=(").status());
        assertEquals(400, admin.get("/stats?type=Bogus").status());
        assertEquals("invalid &type= param\n", admin.get("/stats?type=Bogus").body());
        assertEquals(400, admin.get("/stats?format=html").status());
        assertEquals(400, admin.get("/stats?histogram_buckets=detailed").status());
    }

    @Test
    void statsJsonHasStatsAndOneHistogramsEntry() throws Exception {
        oneCall();
        Reply r = admin.get("/stats?format=json");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        JsonNode stats = r.json().get("stats");
        JsonNode histograms = null;
        for (JsonNode s : stats) {
            if (s.has("histograms")) {
                histograms = s.get("histograms");
            } else {
                assertTrue(s.get("name").isTextual() && s.get("value").isNumber(), s.toString());
            }
        }
        assertNotNull(histograms, r.body());
        assertEquals(10, histograms.get("supported_quantiles").size());
        assertEquals(50, histograms.get("supported_quantiles").get(2).asInt());
        JsonNode echo = null;
        for (JsonNode h : histograms.get("computed_quantiles")) {
            if (h.get("name").asText().equals("remora_upstream_request_duration.cluster.echo")) {
                echo = h;
            }
        }
        assertNotNull(echo, r.body());
        assertEquals(10, echo.get("values").size());
        assertTrue(echo.get("values").get(9).get("cumulative").asDouble() > 0, "P100 of one recorded call, in ms");
    }

    @Test
    void statsPrometheusIsTheScrapeAndFilterKeepsMatchingFamilies() {
        Reply r = admin.get("/stats/prometheus");
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("text/plain; version=0.0.4"), r.contentType());
        assertTrue(r.body().contains("# TYPE remora_downstream_connections_total counter"), r.body());
        Reply filtered = admin.get("/stats/prometheus?filter=downstream_connections");
        for (String l : filtered.lines()) {
            String name = l.startsWith("#") ? l.split(" ")[2] : l.split("[{ ]")[0];
            assertTrue(name.contains("downstream_connections"), l);
        }
        assertTrue(filtered.body().contains("remora_downstream_connections_active{listener=\"out\"}"));
        assertEquals(r.lines().size(), admin.get("/stats?format=prometheus").lines().size());
        assertEquals(400, admin.get("/stats/prometheus?filter=[").status());
    }

    @Test
    void configDumpIsAnEnvoyConfigDumpInEnvoysOrder() {
        Reply r = admin.get("/config_dump");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        String a = EnvoyConfigDump.ADMIN;
        assertEquals(List.of(a + "BootstrapConfigDump", a + "ClustersConfigDump", a + "ListenersConfigDump",
                a + "RoutesConfigDump"), types(r.json()));
        JsonNode bootstrap = r.json().get("configs").get(0).get("bootstrap");
        assertEquals("sidecar~10.0.0.7~demo", bootstrap.get("node").get("id").asText());
        assertEquals("[redacted]", bootstrap.get("node").get("metadata").get("api_token").asText());
        assertEquals(f.sidecar.adminPort(),
                bootstrap.get("admin").get("address").get("socket_address").get("port_value").asInt());
        assertFalse(bootstrap.get("static_resources").get("listeners").get(0).has("@type"),
                "typed fields of the Bootstrap are not Any");

        JsonNode cluster = r.json().get("configs").get(1).get("static_clusters").get(0).get("cluster");
        assertEquals("type.googleapis.com/envoy.config.cluster.v3.Cluster", cluster.get("@type").asText());
        assertEquals("echo", cluster.get("name").asText());
        assertEquals("5s", cluster.get("connect_timeout").asText());
        assertEquals(f.upstream.port(), cluster.get("load_assignment").get("endpoints").get(0).get("lb_endpoints")
                .get(0).get("endpoint").get("address").get("socket_address").get("port_value").asInt());
        assertEquals("600s", cluster.get("health_checks").get(0).get("interval").asText());

        JsonNode listener = r.json().get("configs").get(2).get("static_listeners").get(1).get("listener");
        assertEquals("in", listener.get("name").asText());
        assertEquals("INBOUND", listener.get("traffic_direction").asText());
        JsonNode route = r.json().get("configs").get(3).get("static_route_configs").get(0).get("route_config")
                .get("virtual_hosts").get(0).get("routes").get(0);
        assertEquals("echo", route.get("route").get("cluster").asText());
        assertEquals("1.500s", route.get("route").get("timeout").asText());
        assertEquals("svc.Echo", route.get("match").get("headers").get(0).get("string_match").get("exact").asText());
        assertFalse(r.body().contains("node-label-secret"), r.body());
    }

    @Test
    void configDumpIncludeEdsAddsEndpointsWithLiveHealth() {
        Reply r = admin.get("/config_dump?include_eds");
        assertEquals(200, r.status());
        assertTrue(types(r.json()).contains(EnvoyConfigDump.ADMIN + "EndpointsConfigDump"), r.body());
        JsonNode eds = r.json().get("configs").get(2);
        JsonNode la = eds.get("static_endpoint_configs").get(0).get("endpoint_config");
        assertEquals("type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment", la.get("@type").asText());
        assertEquals("HEALTHY", la.get("endpoints").get(0).get("lb_endpoints").get(0).get("health_status").asText());
    }

    @Test
    void configDumpResourceMaskAndNameRegexFilterLikeEnvoy() throws Exception {
        Reply r = admin.get("/config_dump?resource=static_clusters&mask=cluster.name");
        assertEquals(200, r.status());
        JsonNode configs = r.json().get("configs");
        assertEquals(2, configs.size());
        for (JsonNode c : configs) {
            assertEquals(EnvoyConfigDump.ADMIN + "ClustersConfigDump.StaticCluster", c.get("@type").asText());
            assertEquals(List.of("@type", "cluster"), fieldNames(c));
            assertEquals(List.of("@type", "name"), fieldNames(c.get("cluster")));
        }
        Reply named = admin.get("/config_dump?resource=static_listeners&name_regex=ou.");
        assertEquals(1, named.json().get("configs").size());
        assertEquals("out", named.json().get("configs").get(0).get("listener").get("name").asText());
        JsonNode whole = admin.get("/config_dump?name_regex=echo").json();
        assertEquals(1, whole.get("configs").get(1).get("static_clusters").size());
        assertFalse(whole.get("configs").get(2).has("static_listeners"), "no listener is named echo");
        JsonNode masked = admin.get("/config_dump?mask=static_clusters").json();
        assertEquals(List.of("@type"), fieldNames(masked.get("configs").get(2)), "listeners dump has no such field");
        assertTrue(masked.get("configs").get(1).has("static_clusters"));

        Reply bootstrap = admin.get("/config_dump?resource=bootstrap");
        assertEquals(400, bootstrap.status());
        assertEquals("bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field\n",
                bootstrap.body());
        Reply unknown = admin.get("/config_dump?resource=nothing");
        assertEquals(404, unknown.status());
        assertEquals("nothing not found in config dump\n", unknown.body());
        assertEquals(404, admin.get("/config_dump?resource=static_endpoint_configs").status(),
                "endpoints are only dumped with include_eds");
        assertEquals(200, admin.get("/config_dump?resource=static_endpoint_configs&include_eds").status());
        assertEquals(400, admin.get("/config_dump?name_regex=(").status());
        assertEquals(0, admin.get("/config_dump?resource=dynamic_listeners").json().get("configs").size());

        // a cluster added at run time is dynamic, with the snapshot version
        String next = AdminFixture.config(f.upstream.port(), "{\"port\":0}").replace("\"clusters\":[",
                "\"clusters\":[{\"name\":\"late\",\"hosts\":[{\"address\":\"127.0.0.1:9\"}]},");
        f.sidecar.sidecar().config().apply(ConfigLoader.parse(next), "xds");
        JsonNode clusters = admin.get("/config_dump?resource=dynamic_active_clusters").json().get("configs");
        assertEquals(1, clusters.size());
        assertEquals("late", clusters.get(0).get("cluster").get("name").asText());
        assertEquals("2", clusters.get(0).get("version_info").asText());
        assertEquals(2, admin.get("/config_dump?resource=static_clusters").json().get("configs").size());
    }

    @Test
    void clustersPrintsEnvoysDoubleColonLinesAndJson() throws Exception {
        oneCall();
        Reply r = admin.get("/clusters");
        assertEquals(200, r.status());
        assertTrue(r.isText());
        String host = "echo::127.0.0.1:" + f.upstream.port() + "::";
        List<String> lines = r.lines();
        lines.forEach(l -> assertTrue(l.split("::", -1).length >= 3, l));
        for (String expected : List.of("echo::observability_name::echo", "echo::added_via_api::false",
                "echo::default_priority::max_pending_requests::10000", host + "health_flags::healthy",
                host + "weight::3", host + "zone::z1", host + "rq_total::1", host + "rq_success::1",
                host + "success_rate::100", "echo::outlier::success_rate_ejection_threshold::60")) {
            assertTrue(lines.contains(expected), expected + " in\n" + r.body());
        }

        Reply json = admin.get("/clusters?format=json");
        assertEquals(200, json.status());
        assertTrue(json.isJson());
        JsonNode echo = json.json().get("cluster_statuses").get(0);
        assertEquals("echo", echo.get("name").asText());
        JsonNode hs = echo.get("host_statuses").get(0);
        assertEquals(f.upstream.port(), hs.get("address").get("socket_address").get("port_value").asInt());
        assertEquals(3, hs.get("weight").asInt());
        assertEquals("HEALTHY", hs.get("health_status").get("eds_health_status").asText());
        boolean sawTotal = false;
        for (JsonNode st : hs.get("stats")) {
            if (st.get("name").asText().equals("rq_total")) {
                assertEquals("1", st.get("value").asText(), "uint64 is a string in protobuf JSON");
                sawTotal = true;
            }
        }
        assertTrue(sawTotal, json.body());
        assertEquals(400, admin.get("/clusters?format=yaml").status());
    }

    @Test
    void serverInfoIsEnvoysServerInfo() {
        Reply r = admin.get("/server_info");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        JsonNode s = r.json();
        assertTrue(s.get("version").asText().startsWith("remora/"), s.toString());
        assertEquals("LIVE", s.get("state").asText());
        assertTrue(s.get("uptime_current_epoch").asText().matches("\\d+s"));
        assertTrue(s.get("uptime_all_epochs").asText().matches("\\d+s"));
        JsonNode cl = s.get("command_line_options");
        assertTrue(cl.get("concurrency").asInt() > 0);
        assertEquals("15s", cl.get("drain_time").asText());
        assertEquals("error", cl.get("log_level").asText());
        assertEquals("demo", cl.get("service_cluster").asText());
        assertEquals("sidecar~10.0.0.7~demo", s.get("node").get("id").asText());
        assertEquals("remora", s.get("node").get("user_agent_name").asText());
        assertTrue(s.get("node").get("extensions").size() > 0);
        assertFalse(r.body().contains("node-label-secret"), r.body());
    }

    @Test
    void listenersPrintsNameAndBoundAddress() {
        Reply r = admin.get("/listeners");
        assertEquals(200, r.status());
        assertTrue(r.isText());
        assertEquals(List.of("out::127.0.0.1:" + f.sidecar.port("out"), "in::127.0.0.1:" + f.sidecar.port("in")),
                r.lines());
        Reply json = admin.get("/listeners?format=json");
        assertTrue(json.isJson());
        JsonNode first = json.json().get("listener_statuses").get(0);
        assertEquals("out", first.get("name").asText());
        assertEquals(f.sidecar.port("out"), first.get("local_address").get("socket_address").get("port_value")
                .asInt());
        assertEquals(400, admin.get("/listeners?format=xml").status());
    }

    @Test
    void loggingListsAndChangesLevelsWithEnvoysNames() {
        Reply list = admin.get("/logging");
        assertEquals(200, list.status());
        assertTrue(list.isText());
        assertEquals("active loggers:", list.lines().get(0));
        assertTrue(list.lines().contains("  default: error"), list.body());
        assertFalse(list.body().contains("digest"), "digest logs are access logs: /logging leaves them alone");

        Reply get = admin.get("/logging?level=debug");
        assertEquals(405, get.status());
        assertEquals("Method GET not allowed, POST required.\n", get.body());

        assertEquals(200, admin.post("/logging?level=debug").status());
        assertEquals("DEBUG", admin.get("/api/v1/get_loglevel").json().get("").asText());
        Reply one = admin.post("/logging?default=warning");
        assertEquals(200, one.status());
        assertTrue(one.lines().contains("  default: warning"), one.body());
        assertEquals("WARN", admin.get("/api/v1/get_loglevel").json().get("").asText());
        Reply paths = admin.post("/logging?paths=default:critical,health_check:error");
        assertTrue(paths.lines().contains("  default: critical"), paths.body());
        assertTrue(paths.lines().contains("  health_check: error"), paths.body());
        assertEquals("FATAL", admin.get("/api/v1/get_loglevel").json().get("").asText());
        Reply off = admin.post("/logging?default=off");
        assertTrue(off.lines().contains("  default: off"), off.body());
        assertTrue(admin.post("/logging?default=info").lines().contains("  default: info"));

        Reply badLevel = admin.post("/logging?level=loud");
        assertEquals(400, badLevel.status());
        assertTrue(badLevel.body().startsWith("error: unknown logger level\n\nusage: /logging?<name>=<level>"),
                badLevel.body());
        assertTrue(badLevel.body().contains("active loggers:"), badLevel.body());
        assertTrue(admin.post("/logging?nope=info").body().startsWith("error: unknown logger name"));
        assertTrue(admin.post("/logging?default=info&health_check=info").body()
                .startsWith("error: invalid number of parameters"));
    }

    @Test
    void healthcheckFailMakesReadyAnswer503UntilOk() {
        Reply fail = admin.post("/healthcheck/fail");
        assertEquals(200, fail.status());
        assertTrue(fail.isText());
        assertEquals("OK\n", fail.body());
        Reply ready = admin.get("/ready");
        assertEquals(503, ready.status());
        assertEquals("DRAINING\n", ready.body());
        assertEquals(503, admin.get("/api/v1/ready").status());
        assertEquals("DRAINING", admin.get("/server_info").json().get("state").asText());
        assertTrue(admin.get("/stats?filter=%5Eserver.state%24").lines().contains("server.state: 1"));
        assertTrue(admin.get("/api/v1/states").json().get("health_check_failed").asBoolean());

        Reply ok = admin.post("/healthcheck/ok");
        assertEquals(200, ok.status());
        assertEquals("OK\n", ok.body());
        assertEquals("LIVE\n", admin.get("/ready").body());
        assertEquals(200, admin.get("/api/v1/ready").status());
    }

    @Test
    void drainListenersStopsAcceptingInboundOnlyThenAllGracefully() throws Exception {
        int in = f.sidecar.port("in");
        int out = f.sidecar.port("out");
        try (TestClient open = new TestClient(out)) {
            assertTrue(open.call(1, "svc.Echo", "echo", "before").ok());
            Reply r = admin.post("/drain_listeners?inboundonly");
            assertEquals(200, r.status());
            assertTrue(r.isText());
            assertEquals("OK\n", r.body());
            assertThrows(ConnectException.class, () -> connect(in), "inbound listener stopped accepting");
            connect(out).close();
            assertFalse(f.sidecar.sidecar().setListenerAccepting("in", true),
                    "nothing reopens a listener the admin API drained");
            assertTrue(open.call(2, "svc.Echo", "echo", "still open").ok(), "open connections are untouched");

            assertEquals("OK\n", admin.post("/drain_listeners?graceful&skip_exit").body());
            assertThrows(ConnectException.class, () -> connect(out));
            open.soTimeout(5000);
            assertTrue(open.closedByPeer(), "graceful: idle connections are closed");
        }
        assertEquals(200, admin.get("/ready").status(), "like Envoy, drain_listeners leaves the server LIVE");
        assertEquals(List.of("out::127.0.0.1:" + out, "in::127.0.0.1:" + in), admin.get("/listeners").lines());
    }

    @Test
    void helpListsEveryPathWithItsDescription() {
        Reply r = admin.get("/help");
        assertEquals(200, r.status());
        assertTrue(r.isText());
        List<String> lines = r.lines();
        assertEquals("admin commands are:", lines.get(0));
        for (String path : f.sidecar.sidecar().adminServer().paths().keySet()) {
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("  " + path + ": ")), path + " in\n" + r.body());
        }
        assertTrue(lines.contains("  /ready: print server state, return 200 if LIVE, otherwise return 503 [GET]"),
                r.body());
    }

    private static List<String> fieldNames(JsonNode n) {
        List<String> l = new ArrayList<>();
        n.fieldNames().forEachRemaining(l::add);
        return l;
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        return s;
    }
}
