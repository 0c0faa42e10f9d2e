package io.remora.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.remora.core.config.ConfigLoader;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import io.remora.testing.TestSidecar.AdminReply;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The admin port as operators use it: exact log-level formats, config dump, states, readiness, live config. */
class AdminApiTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TestUpstream upstream;
    private TestSidecar sidecar;

    private String config(String route2Cluster) {
        return """
                {"admin":{"port":0}, "node":{"app":"demo-app"},
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "routes":[{"match":{"service":"svc.Echo"},"cluster":"echo"},
                             {"match":{"service":"svc.Other"},"cluster":"%s"}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]},
                             {"name":"empty","hosts":[]}],
                 "extensions":{"vault":{"password":"hunter2","token":"abc","user":"ops"}}}
                """.formatted(route2Cluster, upstream.port());
    }

    @BeforeEach
    void setUp() throws Exception {
        upstream = new TestUpstream();
        sidecar = TestSidecar.start(config("empty"));
    }

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    @Test
    void getLogLevelListsEveryLogFileWithTheDefaultLoggerUnderEmptyKey() throws Exception {
        AdminReply r = sidecar.admin("GET", "/api/v1/get_loglevel", null);
        assertEquals(200, r.status());
        JsonNode levels = JSON.readTree(r.body());
        assertEquals("ERROR", levels.get("").asText());
        String defaultLog = sidecar.logDir().toAbsolutePath().normalize().resolve("default.log").toString();
        assertEquals("ERROR", levels.get(defaultLog).asText(), r.body());
    }

    @Test
    void updateLogLevelChangesWhatDefaultLogRecords() throws Exception {
        Path defaultLog = sidecar.logDir().resolve("default.log");
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "quiet").ok());
            assertFalse(Files.readString(defaultLog).contains("svc.Echo#echo"), "ERROR level hides request lines");

            AdminReply r = sidecar.admin("POST", "/api/v1/update_loglevel",
                    "{\"log_level\":\"INFO\",\"log_path\":\"\"}");
            assertEquals(200, r.status());
            assertEquals("update logger success", r.body());
            assertEquals("INFO", JSON.readTree(sidecar.admin("GET", "/api/v1/get_loglevel", null).body())
                    .get("").asText());

            assertTrue(c.call(2, "svc.Echo", "echo", "loud").ok());
            assertTrue(awaitContains(defaultLog, "svc.Echo#echo"), "INFO level records the proxied call");
        }
        // FATAL is accepted and reads back as FATAL
        sidecar.admin("POST", "/api/v1/update_loglevel", "{\"log_level\":\"FATAL\",\"log_path\":\""
                + defaultLog.toAbsolutePath().normalize() + "\"}");
        assertEquals("FATAL", JSON.readTree(sidecar.admin("GET", "/api/v1/get_loglevel", null).body())
                .get("").asText());
    }

    @Test
    void rejectsUnknownLevelsAndPathsWithA400() {
        AdminReply badLevel = sidecar.admin("POST", "/api/v1/update_loglevel", "{\"log_level\":\"LOUD\"}");
        assertEquals(400, badLevel.status());
        assertTrue(badLevel.body().contains("LOUD"), badLevel.body());
        AdminReply badPath = sidecar.admin("POST", "/api/v1/update_loglevel",
                "{\"log_level\":\"INFO\",\"log_path\":\"/no/such.log\"}");
        assertEquals(400, badPath.status());
        assertTrue(badPath.body().contains("/no/such.log"), badPath.body());
        assertEquals(400, sidecar.admin("POST", "/api/v1/update_loglevel", "not json").status());
    }

    @Test
    void configDumpShowsTheRunningConfigWithSecretsRedacted() throws Exception {
        AdminReply r = sidecar.admin("GET", "/api/v1/config_dump", null);
        assertEquals(200, r.status());
        JsonNode dump = JSON.readTree(r.body());
        assertEquals(1, dump.get("version").asInt());
        JsonNode vault = dump.get("config").get("extensions").get("vault");
        assertEquals("[redacted]", vault.get("password").asText());
        assertEquals("[redacted]", vault.get("token").asText());
        assertEquals("ops", vault.get("user").asText());
        assertFalse(r.body().contains("hunter2"));
        assertEquals("out", dump.get("config").get("listeners").get(0).get("name").asText());
    }

    @Test
    void statesAndReadinessReportServingListeners() throws Exception {
        assertEquals(200, sidecar.admin("GET", "/ready", null).status());
        assertEquals(200, sidecar.admin("GET", "/healthz", null).status());
        JsonNode states = JSON.readTree(sidecar.admin("GET", "/api/v1/states", null).body());
        assertEquals("ready", states.get("state").asText());
        assertEquals("out", states.get("listeners").get(0).get("name").asText());
        assertEquals(404, sidecar.admin("GET", "/api/v1/nothing", null).status());
        assertEquals(405, sidecar.admin("DELETE", "/api/v1/states", null).status());
    }

    @Test
    void aNewConfigChangesRoutesWithoutDroppingTheConnection() throws Exception {
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            int before = c.call(1, "svc.Other", "echo", "x").status();
            assertTrue(before >= 100, "no healthy upstream in the empty cluster");
            int port = sidecar.port("out");
            sidecar.sidecar().config().apply(ConfigLoader.parse(config("echo")), "test");
            assertEquals(port, sidecar.port("out"), "an unchanged listener keeps its socket");
            assertTrue(c.call(2, "svc.Other", "echo", "x").ok(), "same connection, new route");
            assertEquals(2, JSON.readTree(sidecar.admin("GET", "/api/v1/config_dump", null).body())
                    .get("version").asInt());
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
