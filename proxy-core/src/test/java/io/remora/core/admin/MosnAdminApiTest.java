package io.remora.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.admin.AdminClient.Reply;
import io.remora.core.testproto.TestClient;
import io.remora.core.transport.Transport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * MOSN's admin paths ({@code pkg/admin/server/apis.go}) over a real socket against a started sidecar: MOSN's
 * parameters, status codes and response shapes, and secrets never shown.
 */
class MosnAdminApiTest {

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

    private static void assertNoSecrets(Reply r) {
        assertFalse(r.body().contains(AdminFixture.SECRET), r.body());
        assertFalse(r.body().contains(AdminFixture.NESTED_SECRET), r.body());
        assertFalse(r.body().contains("node-label-secret"), r.body());
    }

    @Test
    void configDumpWithoutParametersCarriesRemoraAndMosnShapes() {
        Reply r = admin.get("/api/v1/config_dump");
        assertEquals(200, r.status());
        assertTrue(r.isJson(), r.contentType());
        JsonNode d = r.json();
        // Remora's keys, unchanged
        assertEquals(1, d.get("version").asInt());
        assertEquals("out", d.get("config").get("listeners").get(0).get("name").asText());
        // MOSN's effectiveConfig keys beside them
        assertEquals("egress", d.get("listener").get("out").get("type").asText());
        assertEquals("SIMPLE", d.get("cluster").get("echo").get("type").asText());
        assertEquals("rpc_routes", d.get("routers").get("rpc_routes").get("router_config_name").asText());
        assertEquals("vault", d.get("extends").get(0).get("type").asText());
        assertEquals("[redacted]", d.get("extends").get(0).get("config").get("password").asText());
        assertTrue(d.get("mosn_config").get("servers").get(0).has("default_log_path"));
        assertNoSecrets(r);
        List<String> keys = new java.util.ArrayList<>();
        admin.get("/api/v1/config_dump?allconfig").json().fieldNames().forEachRemaining(keys::add);
        assertEquals(List.of("version", "applied_at", "source", "config", "mosn_config", "listener", "cluster",
                "routers", "extends"), keys, "?allconfig is the whole dump");
    }

    @Test
    void configDumpMosnConfigIsTheServerSectionWithTheAdminAddress() {
        Reply r = admin.get("/api/v1/config_dump?mosnconfig");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        JsonNode server = r.json().get("servers").get(0);
        assertTrue(server.get("default_log_path").asText().endsWith("default.log"));
        assertEquals("ERROR", server.get("default_log_level").asText());
        assertEquals(f.sidecar.adminPort(),
                r.json().get("admin").get("address").get("socket_address").get("port_value").asInt());
        assertFalse(r.json().has("listener"), "MOSN's mosnconfig leaves listeners out");
    }

    @Test
    void configDumpAllListenersRoutersClustersAreMapsByName() {
        Reply ls = admin.get("/api/v1/config_dump?alllisteners");
        assertEquals(200, ls.status());
        assertTrue(ls.isJson());
        assertEquals("ingress", ls.json().get("in").get("type").asText());
        JsonNode proxy = ls.json().get("out").get("filter_chains").get(0).get("filters").get(0);
        assertEquals("proxy", proxy.get("type").asText());
        assertEquals("rpc_routes", proxy.get("config").get("router_config_name").asText());

        Reply rs = admin.get("/api/v1/config_dump?allrouters");
        assertEquals(200, rs.status());
        JsonNode first = rs.json().get("rpc_routes").get("virtual_hosts").get(0).get("routers").get(0);
        assertEquals("service", first.get("match").get("headers").get(0).get("name").asText());
        assertEquals("svc.Echo", first.get("match").get("headers").get(0).get("value").asText());
        assertEquals("echo", first.get("route").get("cluster_name").asText());
        assertEquals("1.5s", first.get("route").get("timeout").asText());
        assertTrue(rs.json().has("in"), "a listener's inline routes are dumped under its name");

        Reply cs = admin.get("/api/v1/config_dump?allclusters");
        assertEquals(200, cs.status());
        JsonNode host = cs.json().get("echo").get("hosts").get(0);
        assertEquals(3, host.get("weight").asInt());
        assertEquals("z1", host.get("metadata").get("filter_metadata").get("mosn.lb").get("zone").asText());
        assertEquals("LB_ROUNDROBIN", cs.json().get("echo").get("lb_type").asText());
    }

    @Test
    void configDumpOneByNameAndItsErrors() {
        assertEquals("out", admin.get("/api/v1/config_dump?listener=out").json().get("name").asText());
        assertEquals("rpc_routes", admin.get("/api/v1/config_dump?router=rpc_routes").json()
                .get("router_config_name").asText());
        assertEquals("echo", admin.get("/api/v1/config_dump?cluster=echo").json().get("name").asText());

        Reply missing = admin.get("/api/v1/config_dump?cluster=nope");
        assertEquals(404, missing.status());
        assertTrue(missing.body().contains("nope") && missing.body().contains("echo"), missing.body());
        Reply two = admin.get("/api/v1/config_dump?allclusters&alllisteners");
        assertEquals(400, two.status());
        assertEquals("only support one parameter\n", two.body());
        Reply unknown = admin.get("/api/v1/config_dump?everything");
        assertEquals(400, unknown.status());
        assertTrue(unknown.body().contains("\"everything\"") && unknown.body().contains("mosnconfig"),
                unknown.body());
    }

    @Test
    void statsIsMosnsConsoleSinkAndKeySelectsOneNamespace() throws Exception {
        try (TestClient c = new TestClient(f.sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "x").ok());
        }
        Reply r = admin.get("/api/v1/stats");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        JsonNode out = r.json().get("downstream").get("listener.out");
        assertEquals("1", out.get("connections").asText(), "MOSN prints values as strings");
        assertTrue(r.json().get("upstream").has("cluster.echo"));

        Reply one = admin.get("/api/v1/stats?key=downstream.listener.out");
        assertEquals(200, one.status());
        assertEquals(1, one.json().size());
        assertEquals(1, one.json().get("downstream").size());
        assertEquals("1", one.json().get("downstream").get("listener.out").get("connections").asText());

        Reply none = admin.get("/api/v1/stats?key=downstream.nope");
        assertEquals(404, none.status());
        assertEquals("no metrics key: downstream.nope\n", none.body());
        assertEquals(400, admin.get("/api/v1/stats?key=a&prefix=b").status());
        assertEquals(400, admin.get("/api/v1/stats?bogus=1").status());

        // Remora's own format, kept under ?prefix=
        Reply ours = admin.get("/api/v1/stats?prefix=remora_downstream");
        assertEquals(200, ours.status());
        assertTrue(ours.json().isArray() && ours.json().size() > 0);
        ours.json().forEach(m -> assertTrue(m.get("name").asText().startsWith("remora_downstream")));
    }

    @Test
    void statsGlobPrintsTheGlobalProxyTotalsAsKeyValueLines() throws Exception {
        try (TestClient c = new TestClient(f.sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "x").ok());
        }
        Reply r = admin.get("/api/v1/stats_glob");
        assertEquals(200, r.status());
        assertTrue(r.isText(), r.contentType());
        List<String> lines = r.lines();
        lines.forEach(l -> assertTrue(l.matches("[a-z_]+:\\d+"), l));
        assertTrue(lines.contains("request_total:1"), r.body());
        assertTrue(lines.contains("connection_total:1"), r.body());
        assertTrue(lines.contains("request_failed:0"), r.body());
    }

    @Test
    void disableLogStopsAFileAndEnableLogBringsItBackAtItsLevel() throws Exception {
        Path defaultLog = f.sidecar.logDir().resolve("default.log");
        assertEquals(200, admin.post("/api/v1/update_loglevel", "{\"log_level\":\"INFO\",\"log_path\":\"\"}")
                .status());
        Reply off = admin.post("/api/v1/disable_log", "default.log");
        assertEquals(200, off.status());
        assertTrue(off.isText());
        assertEquals("disable logger success\n", off.body());
        assertEquals("INFO", admin.get("/api/v1/get_loglevel").json().get("").asText(), "the level is kept");
        try (TestClient c = new TestClient(f.sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Other", "echo", "while-off").ok());
            // same connection, same event loop: once this answers, the first call's log line was decided
            c.call(2, "svc.Barrier", "echo", "barrier");
            Reply on = admin.post("/api/v1/enable_log", "default.log");
            assertEquals(200, on.status());
            assertEquals("enable logger success\n", on.body());
            assertTrue(c.call(3, "svc.Echo", "echo", "while-on").ok());
        }
        assertTrue(awaitContains(defaultLog, "svc.Echo#echo"), "INFO lines come back after enable_log");
        assertFalse(Files.readString(defaultLog).contains("svc.Other#echo"), "the call made while disabled");

        Reply bad = admin.post("/api/v1/disable_log", "/no/such.log");
        assertEquals(400, bad.status());
        assertTrue(bad.isJson());
        assertTrue(bad.json().get("error").asText().contains("/no/such.log"), bad.body());
        Reply get = admin.get("/api/v1/enable_log");
        assertEquals(405, get.status());
        assertEquals("POST", get.allow());
    }

    @Test
    void statesKeepsRemoraJsonWithMosnStateAndFormatMosnIsMosnsText() {
        Reply r = admin.get("/api/v1/states");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        assertEquals("ready", r.json().get("state").asText());
        assertEquals(6, r.json().get("mosn_state").asInt(), "Running");
        assertEquals("LIVE", r.json().get("server_state").asText());

        Reply mosn = admin.get("/api/v1/states?format=mosn");
        assertEquals(200, mosn.status());
        assertTrue(mosn.isText());
        assertEquals("pid=" + ProcessHandle.current().pid() + "&state=6\n", mosn.body());
        Reply bad = admin.get("/api/v1/states?format=xml");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("xml"), bad.body());
    }

    @Test
    void pluginListsLoadedPluginsAndCannotDisableThem() {
        Reply usage = admin.get("/api/v1/plugin");
        assertEquals(400, usage.status());
        assertTrue(usage.body().startsWith("Usage:\n/plugin?status=all\n"), usage.body());

        Reply all = admin.get("/api/v1/plugin?status=all");
        assertEquals(200, all.status());
        assertTrue(all.isText());
        assertTrue(all.lines().contains("name:testrpc,enable:true,on:true,kind:protocol"), all.body());
        assertTrue(all.lines().contains("name:cluster-health,enable:true,on:true,kind:extension"), all.body());
        all.lines().forEach(l -> assertTrue(l.matches("name:[^,]+,enable:true,on:true,kind:[a-z_]+"), l));

        assertEquals("name:testrpc,enable:true,on:true,kind:protocol\n",
                admin.get("/api/v1/plugin?status=testrpc").body());
        Reply unknown = admin.get("/api/v1/plugin?status=nope");
        assertEquals(404, unknown.status());
        assertEquals("plugin nope no register\n", unknown.body());

        assertEquals(405, admin.get("/api/v1/plugin?enable=testrpc").status(), "enable mutates: POST only");
        Reply enable = admin.post("/api/v1/plugin?enable=testrpc");
        assertEquals(200, enable.status());
        assertEquals("enable testrpc success\n", enable.body());
        Reply disable = admin.post("/api/v1/plugin?disable=testrpc");
        assertEquals(400, disable.status());
        assertTrue(disable.body().contains("cannot be disabled"), disable.body());
    }

    @Test
    void featuresMapsEveryFeatureSwitchAndKeyAnswersOne() {
        Reply r = admin.get("/api/v1/features");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        assertEquals(Transport.get().isEpoll(), r.json().get("EpollTransport").asBoolean());
        assertTrue(r.json().get("FaultIsolation").asBoolean());
        assertTrue(r.json().get("ActiveHealthCheck").asBoolean());
        assertFalse(r.json().get("AdminToken").asBoolean());
        assertFalse(r.json().get("XdsMtlsEnable").asBoolean(), "MOSN's own gates are known and off");
        r.json().fields().forEachRemaining(e -> assertTrue(e.getValue().isBoolean(), e.getKey()));

        Reply one = admin.get("/api/v1/features?key=FaultIsolation");
        assertEquals(200, one.status());
        assertEquals("true", one.body());
        assertEquals("false", admin.get("/api/v1/features?key=auto_config").body());
        Reply unknown = admin.get("/api/v1/features?key=Teleport");
        assertEquals(404, unknown.status());
        assertTrue(unknown.body().contains("Teleport"), unknown.body());
    }

    @Test
    void envAnswersEnvironmentAndNodeKeysWithSecretsRedacted() {
        Reply r = admin.get("/api/v1/env?key=PATH&key=node.app&key=NO_SUCH_VAR&key=node.labels.api_token");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        assertEquals(System.getenv("PATH"), r.json().get("env").get("PATH").asText());
        assertEquals("demo-app", r.json().get("env").get("node.app").asText());
        assertEquals("[redacted]", r.json().get("env").get("node.labels.api_token").asText());
        assertEquals("NO_SUCH_VAR", r.json().get("not_found").get(0).asText());
        assertNoSecrets(r);
        assertTrue(admin.get("/api/v1/env?key=node.id").json().get("not_found").isNull(),
                "MOSN always has not_found: null when nothing is missing");

        Reply noKey = admin.get("/api/v1/env");
        assertEquals(400, noKey.status());
        assertEquals("no env key", noKey.json().get("error").asText());
    }

    @Test
    void versionAnswersMosnsVersionLine() {
        Reply r = admin.get("/api/v1/version");
        assertEquals(200, r.status());
        assertTrue(r.isText());
        assertTrue(r.body().matches("mosn version: \\S+"), r.body());
    }

    @Test
    void rootListsSupportedApis() {
        Reply r = admin.get("/");
        assertEquals(200, r.status());
        assertTrue(r.isText());
        List<String> lines = r.lines();
        assertEquals("supported APIs:", lines.get(0));
        for (String p : List.of("/api/v1/config_dump", "/api/v1/features", "/api/v1/env", "/api/v1/plugin",
                "/stats/prometheus", "/config_dump", "/server_info")) {
            assertTrue(lines.contains(p), p + " in " + r.body());
        }
    }

    private static boolean awaitContains(Path file, String text) throws Exception {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file).contains(text)) {
                return true;
            }
            Thread.onSpinWait();
        }
        return false;
    }

}
