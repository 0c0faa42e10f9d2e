package io.remora.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.protocol.ProxyError;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestClient.Reply;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** RPC listeners route by the connection's destination; original_dst clusters never loop back into the listener. */
class DestinationRoutingTest {

    private TestUpstream upstream;
    private TestSidecar sidecar;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new TestUpstream();
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
        upstream.close();
    }

    @Test
    void routesRpcRequestByTheConnectionsDestination() throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads": 1,
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "routes":[{"match":{"service":"svc.Echo","destination":"10.0.0.0/8"},"cluster":"none"},
                             {"match":{"destination":"127.0.0.1"},"cluster":"echo"}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]},
                             {"name":"none","hosts":[]}]}
                """.formatted(upstream.port()));
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            Reply r = c.call(7, "svc.Echo", "echo", "hi");
            assertTrue(r.ok(), r.toString());
            assertEquals("echo:hi@" + upstream.port(), r.payload());
        }
    }

    @Test
    void originalDstClusterAnswersAnErrorForConnectionsMadeToTheListenerItself() throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads": 1,
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "routes":[{"match":{"service":"*"},"cluster":"passthrough"}]}],
                 "clusters":[{"name":"passthrough","type":"original_dst"}]}
                """);
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            Reply r = c.call(8, "svc.Echo", "echo", "hi");
            assertEquals(100 + ProxyError.NO_HEALTHY_UPSTREAM.ordinal(), r.status(), r.toString());
            assertTrue(r.payload().contains("original destination"), r.toString());
        }
        assertEquals(0, upstream.requests.size());
    }
}
