package io.remora.xds;

import static io.remora.xds.GoInteropScenarios.await;
import static io.remora.xds.GoInteropScenarios.cla;
import static io.remora.xds.GoInteropScenarios.cluster;
import static io.remora.xds.GoInteropScenarios.echo;
import static io.remora.xds.GoInteropScenarios.listener;
import static io.remora.xds.GoInteropScenarios.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import io.remora.core.config.ConfigLoader;
import io.remora.testing.TestSidecar;
import io.remora.xds.controlplane.GoControlPlane;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code api: auto}: delta where the control plane has it, SotW (decided once, logged once) where it does not. */
class GoInteropAutoTest {

    private RpcServer echo;
    private RpcClient client;
    private GoControlPlane cp;
    private TestSidecar sidecar;

    @BeforeEach
    void setUp() {
        echo = echo("A");
        client = new RpcClient();
        client.startup();
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (cp != null) {
            cp.close();
        }
        client.shutdown();
        echo.shutdown();
    }

    private String runAuto(boolean controlPlaneHasDelta) throws Exception {
        cp = GoControlPlane.start(GoControlPlane.Cache.SNAPSHOT, controlPlaneHasDelta);
        cp.set("1", cluster("a"), cla("a", echo), listener("egress", 0, "rpc_routes"),
                routes("rpc_routes", "java.lang.String", "a"));
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,"node":{"id":"%s","app":"shop"},
                 "extensions":{"xds":{"address":"127.0.0.1:%d","api":"auto","reconnect_base_ms":100}}}
                """.formatted(GoInteropScenarios.NODE, cp.xdsPort()));
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
        assertEquals("A:hi", client.invokeSync("127.0.0.1:" + sidecar.port("egress"), "hi", 3000));
        return ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/xds", null).body()).path("wire").asText();
    }

    @Test
    void autoFallsBackToSotwOnceWhenDeltaIsUnimplemented() throws Exception {
        assertEquals("sotw", runAuto(false));
        Path log = sidecar.logDir().resolve("xds.log");
        await("the fallback log line", () -> read(log).contains("falls back to state of the world"));
        assertEquals(1, read(log).split("falls back to state of the world", -1).length - 1, "logged once");
        assertEquals(0, ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/xds", null).body())
                .at("/counters/disconnects").asInt(), "the fallback is not a lost stream");
    }

    @Test
    void autoSpeaksDeltaToAControlPlaneThatHasIt() throws Exception {
        assertEquals("delta", runAuto(true));
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (java.io.IOException e) {
            return "";
        }
    }
}
