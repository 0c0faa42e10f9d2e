package io.remora.core.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.admin.AdminClient.Reply;
import io.remora.core.testproto.TestClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Remora's own admin paths that no other test covers end to end: readiness, liveness, metrics, clusters, drain. */
class RemoraAdminPathsTest {

    private AdminFixture f;

    @BeforeEach
    void setUp() throws Exception {
        f = AdminFixture.start();
    }

    @AfterEach
    void tearDown() {
        f.close();
    }

    @Test
    void readyAndHealthzAnswerPlainText() {
        Reply ready = f.admin.get("/api/v1/ready");
        assertEquals(200, ready.status());
        assertTrue(ready.isText());
        assertEquals("ready\n", ready.body());
        Reply live = f.admin.get("/healthz");
        assertEquals(200, live.status());
        assertTrue(live.isText());
        assertEquals("ok\n", live.body());
    }

    @Test
    void metricsIsThePrometheusScrape() {
        Reply r = f.admin.get("/metrics");
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("text/plain; version=0.0.4"), r.contentType());
        assertTrue(r.lines().contains("# TYPE remora_downstream_connections_total counter"), r.body());
    }

    @Test
    void clustersShowsHostsWithHealthAndCounts() throws Exception {
        try (TestClient c = new TestClient(f.sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "x").ok());
        }
        Reply r = f.admin.get("/api/v1/clusters");
        assertEquals(200, r.status());
        assertTrue(r.isJson());
        JsonNode echo = r.json().get("clusters").get(0);
        assertEquals("echo", echo.get("name").asText());
        JsonNode host = echo.get("hosts").get(0);
        assertEquals("healthy", host.get("health").asText());
        assertEquals(1, host.get("requests").asInt());
        assertEquals(100.0, host.get("success_rate").asDouble());
    }

    @Test
    void drainAnswers202AndGetShowsProgress() throws Exception {
        Reply before = f.admin.get("/api/v1/drain");
        assertEquals(200, before.status());
        assertTrue(before.isJson());
        assertEquals(false, before.json().get("draining").asBoolean());
        Reply r = f.admin.post("/api/v1/drain");
        assertEquals(202, r.status());
        assertEquals("draining\n", r.body());
        assertEquals(true, f.admin.get("/api/v1/drain").json().get("draining").asBoolean());
        assertEquals(503, f.admin.get("/api/v1/ready").status());
        assertEquals("DRAINING\n", f.admin.get("/ready").body());
        assertEquals(8, f.admin.get("/api/v1/states").json().get("mosn_state").asInt(), "GracefulStopping");
    }
}
