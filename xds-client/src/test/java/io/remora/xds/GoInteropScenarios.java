package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.edsCluster;
import static io.remora.testkit.xds.EnvoyResources.endpoint;
import static io.remora.testkit.xds.EnvoyResources.endpoints;
import static io.remora.testkit.xds.EnvoyResources.route;
import static io.remora.testkit.xds.EnvoyResources.routeConfig;
import static io.remora.testkit.xds.EnvoyResources.rpcListener;
import static io.remora.xds.controlplane.GoControlPlane.CLUSTER;
import static io.remora.xds.controlplane.GoControlPlane.ENDPOINT;
import static io.remora.xds.controlplane.GoControlPlane.LISTENER;
import static io.remora.xds.controlplane.GoControlPlane.ROUTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.remora.core.config.ConfigLoader;
import io.remora.testing.TestSidecar;
import io.remora.xds.controlplane.GoControlPlane;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A real sidecar against go-control-plane (an independent xDS server, {@code src/test/go}) as a separate process,
 * with real SOFA Bolt calls through the sidecar. The same scenarios run over each wire dialect (subclasses).
 */
abstract class GoInteropScenarios {

    static final String NODE = "sidecar~127.0.0.1~shop-7d9f.prod~prod.svc.cluster.local";

    /** "sotw" or "delta": the sidecar's {@code extensions.xds.api}. */
    abstract String api();

    abstract GoControlPlane.Cache cache();

    GoControlPlane cp;
    TestSidecar sidecar;
    RpcServer echoA;
    RpcServer echoB;
    RpcClient client;
    int versions;

    static RpcServer echo(String tag) {
        RpcServer s = new RpcServer("127.0.0.1", TestSidecar.freePort(), false);
        s.registerUserProcessor(new SyncUserProcessor<String>() {
            @Override
            public Object handleRequest(BizContext ctx, String request) {
                return tag + ":" + request;
            }

            @Override
            public String interest() {
                return String.class.getName();
            }
        });
        s.startup();
        return s;
    }

    @BeforeEach
    void setUp() throws Exception {
        echoA = echo("A");
        echoB = echo("B");
        client = new RpcClient();
        client.startup();
        cp = GoControlPlane.start(cache(), true);
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
        echoA.shutdown();
        echoB.shutdown();
    }

    TestSidecar startSidecar() throws Exception {
        return TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "node":{"id":"%s","app":"shop","labels":{"version":"v1"}},
                 "extensions":{"xds":{"address":"127.0.0.1:%d","api":"%s",
                   "initial_fetch_timeout_ms":60000,"warming_timeout_ms":60000,
                   "reconnect_base_ms":100,"reconnect_max_ms":800,
                   "metadata":{"ISTIO_VERSION":"1.24.0","CLUSTER_ID":"Kubernetes","MESH_ID":"cluster.local"}}}}
                """.formatted(NODE, cp.xdsPort(), api()));
    }

    // ---------------------------------------------------------------- resources

    static Cluster cluster(String name) {
        return edsCluster(name, "bolt");
    }

    static ClusterLoadAssignment cla(String cluster, RpcServer to) {
        return endpoints(cluster, List.of(endpoint("127.0.0.1", to.port(), 1, Map.of(), HealthStatus.HEALTHY)));
    }

    static Listener listener(String name, int port, String routeConfig) {
        return rpcListener(name, "127.0.0.1", port, """
                {"protocol":"bolt","direction":"outbound","route_config":"%s"}""".formatted(routeConfig));
    }

    static RouteConfiguration routes(String name, String service, String cluster) {
        return routeConfig(name, route(service, null, cluster, 3000));
    }

    /** Listener egress → RDS rpc_routes → cluster a → echo A. */
    void pushBase() throws Exception {
        cp.set(nextVersion(), cluster("a"), cla("a", echoA), listener("egress", 0, "rpc_routes"),
                routes("rpc_routes", "java.lang.String", "a"));
    }

    String nextVersion() {
        return "v" + (++versions);
    }

    static String[] gone(String typeUrl, String name) {
        return new String[] {typeUrl, name};
    }

    String call(String listener, String msg) throws Exception {
        return (String) client.invokeSync("127.0.0.1:" + sidecar.port(listener), msg, 3000);
    }

    JsonNode xds() {
        try {
            return ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/xds", null).body());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    boolean serving(String listener) {
        return sidecar.sidecar().listenerAddress(listener) != null;
    }

    static boolean accepts(InetSocketAddress a) {
        try (Socket s = new Socket()) {
            s.connect(a, 1000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    void awaitReadyAndServing() throws Exception {
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
        assertEquals("A:hi", call("egress", "hi"));
    }

    // ---------------------------------------------------------------- scenarios

    @Test
    void initialConfigServesTrafficAndEveryTypeIsAcked() throws Exception {
        pushBase();
        sidecar = startSidecar();
        awaitReadyAndServing();
        for (String[] t : new String[][] {{CLUSTER, "a"}, {ENDPOINT, "a"}, {LISTENER, "egress"},
            {ROUTE, "rpc_routes"}}) {
            String type = t[0];
            String name = t[1];
            await("ACK of " + type, () -> cp.acked(type, name));
        }
        JsonNode st = cp.status().path("status").path(NODE);
        assertTrue(st.path(LISTENER).path("acks").asInt() >= 1, st.toString());
        assertEquals(0, st.path(LISTENER).path("nacks").asInt(), st.toString());
        JsonNode first = cp.status().path("requests").get(0);
        assertTrue(first.path("has_node").asBoolean(), "the stream's first request carries the node");
        JsonNode md = first.path("metadata");
        assertEquals("prod", md.path("NAMESPACE").asText());
        assertEquals("shop-7d9f", md.path("NAME").asText());
        assertEquals("127.0.0.1", md.path("INSTANCE_IPS").asText());
        assertEquals("v1", md.path("LABELS").path("version").asText(), md.toString());
        assertEquals("1.24.0", md.path("ISTIO_VERSION").asText());
        assertEquals("Kubernetes", md.path("CLUSTER_ID").asText());
        assertTrue(first.path("client_features").toString().contains("envoy.lb.does_not_support_overprovisioning"));
        assertTrue(first.path("user_agent").asText().startsWith("remora/"));
        assertEquals(api(), xds().path("wire").asText());
        assertSubscriptions();
    }

    /** What each type's first request asked for, in this dialect. */
    abstract void assertSubscriptions();

    @Test
    void badResourceIsNackedWithItsNameAndFieldWhileTrafficKeepsFlowing() throws Exception {
        pushBase();
        sidecar = startSidecar();
        awaitReadyAndServing();
        int port = sidecar.port("egress");
        long version = sidecar.sidecar().config().current().version();

        // One update, one good new listener and one bad: neither is applied (never half a config).
        cp.update(nextVersion(), List.of(listener("egress", 70000, "rpc_routes"), listener("egress_two", 0,
                "rpc_routes")), List.of());
        await("a NACK of the bad listener", () -> cp.nacked(LISTENER, "egress") != null);
        String detail = cp.nacked(LISTENER, "egress").path("error").asText();
        assertTrue(detail.contains("listener \"egress\""), detail);
        assertTrue(detail.contains("address"), detail);
        assertTrue(detail.contains("70000"), detail);
        assertEquals(3, cp.nacked(LISTENER, "egress").path("error_code").asInt(), "INVALID_ARGUMENT");
        JsonNode st = cp.status().path("status").path(NODE).path(LISTENER);
        assertEquals(detail, st.path("nack_message").asText());

        assertEquals(version, sidecar.sidecar().config().current().version(), "the running config is unchanged");
        assertFalse(serving("egress_two"), "nothing of a NACKed response is applied");
        assertEquals(port, sidecar.port("egress"));
        assertEquals("A:still", call("egress", "still"));
        assertTrue(xds().at("/types/lds/last_nack").asText().contains("70000"));

        // The control plane fixes it: both apply, the unchanged listener keeps its socket.
        cp.update(nextVersion(), List.of(listener("egress", 0, "rpc_routes"), listener("egress_two", 0,
                "rpc_routes")), List.of());
        await("egress_two", () -> serving("egress_two"));
        assertEquals("A:two", call("egress_two", "two"));
        assertEquals(port, sidecar.port("egress"));
        await("ACK after the fix", () -> cp.acked(LISTENER, "egress_two"));
        if (api().equals("delta")) {
            // go-control-plane counted egress_two as delivered with the NACKed response: a new stream resyncs it
            assertTrue(xds().at("/counters/resyncs").asLong() >= 1, xds().path("counters").toString());
        }
    }

    @Test
    void removedListenerClosesAndRemovedRouteStopsRouting() throws Exception {
        cp.set(nextVersion(), cluster("a"), cla("a", echoA), cluster("b"), cla("b", echoB),
                listener("egress", 0, "rpc_routes"), routes("rpc_routes", "java.lang.String", "a"),
                listener("egress_b", 0, "routes_b"), routes("routes_b", "java.lang.String", "b"));
        sidecar = startSidecar();
        awaitReadyAndServing();
        assertEquals("B:hi", call("egress_b", "hi"));
        InetSocketAddress b = sidecar.listener("egress_b");

        cp.update(nextVersion(), List.of(), List.of(gone(LISTENER, "egress_b"), gone(ROUTE, "routes_b"),
                gone(CLUSTER, "b"), gone(ENDPOINT, "b")));
        await("egress_b closed", () -> !serving("egress_b"));
        await("cluster b removed", () -> sidecar.sidecar().config().current().clusters().get("b") == null);
        assertFalse(accepts(b), "the removed listener's socket is closed");
        assertEquals("A:hi", call("egress", "hi"), "the rest keeps serving");

        // The route to a is replaced by one for another service: String calls have no route any more.
        cp.set(nextVersion(), routes("rpc_routes", "com.example.Other:1.0", "a"));
        await("the new route table", () -> sidecar.sidecar().config().current().source().routeConfigs().stream()
                .anyMatch(r -> r.routes().get(0).match().service().equals("com.example.Other:1.0")));
        assertThrows(Exception.class, () -> call("egress", "nope"));
        assertTrue(serving("egress"));
    }

    @Test
    void listenerWaitsForItsClusterAndTheClusterForItsEndpoints() throws Exception {
        cp.set(nextVersion(), listener("egress", 0, "rpc_routes"), routes("rpc_routes", "java.lang.String", "late"));
        sidecar = startSidecar();
        await("RDS ACK", () -> cp.acked(ROUTE, "rpc_routes"));
        assertFalse(serving("egress"), "a listener routing to an unknown cluster waits");
        assertTrue(xds().path("warming").toString().contains("listener:egress"), xds().path("warming").toString());
        assertEquals(503, sidecar.admin("GET", "/ready", null).status());

        cp.set(nextVersion(), cluster("late"));
        await("CDS ACK", () -> cp.acked(CLUSTER, "late"));
        await("EDS subscription", () -> xds().at("/types/eds/subscribed").toString().contains("late"));
        assertFalse(serving("egress"), "the cluster waits for its endpoints, and the listener for the cluster");
        assertTrue(xds().path("warming").toString().contains("eds:late"), xds().path("warming").toString());

        cp.set(nextVersion(), cla("late", echoA));
        await("egress serving", () -> serving("egress"));
        awaitReadyAndServing();
        assertEquals("[]", xds().path("warming").toString());
    }

    @Test
    void keepsServingWithoutTheControlPlaneAndResyncsWhenItReturns() throws Exception {
        pushBase();
        sidecar = startSidecar();
        awaitReadyAndServing();
        await("EDS ACK", () -> cp.acked(ENDPOINT, "a"));
        List<JsonNode> before = new ArrayList<>();
        for (String t : List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE)) {
            before.addAll(cp.responses(t));
        }
        long version = sidecar.sidecar().config().current().version();
        int port = sidecar.port("egress");

        cp.kill();
        await("the sidecar to notice", () -> xds().at("/counters/reconnects").asLong() >= 2);
        assertEquals("A:alone", call("egress", "alone"), "the last good config keeps serving");
        assertEquals(version, sidecar.sidecar().config().current().version());
        assertEquals(200, sidecar.admin("GET", "/ready", null).status());
        assertTrue(xds().path("last_error").asText().contains("UNAVAILABLE"), xds().path("last_error").asText());

        cp = cp.restart();
        // The control plane came back empty; it learns everything again, with a's endpoint moved to B.
        cp.set(nextVersion(), cluster("a"), cla("a", echoB), listener("egress", 0, "rpc_routes"),
                routes("rpc_routes", "java.lang.String", "a"));
        await("the new endpoint", () -> {
            try {
                return call("egress", "back").equals("B:back");
            } catch (Exception e) {
                return false;
            }
        });
        assertEquals(port, sidecar.port("egress"), "the unchanged listener kept its socket");
        assertEquals("connected", xds().path("state").asText());
        assertEquals(0, xds().path("backoff_attempt").asInt(), "backoff resets once the stream answers");
        assertResync(before);
    }

    /** What the first requests on the new stream told the restarted control plane, in this dialect. */
    abstract void assertResync(List<JsonNode> responsesBeforeRestart);

    /** The first request of {@code typeUrl} the (current) control plane received. */
    JsonNode firstRequest(String typeUrl) {
        List<JsonNode> r = cp.requests(typeUrl);
        assertFalse(r.isEmpty(), "no request of " + typeUrl);
        return r.get(0);
    }

    static void assertNoError(JsonNode request) {
        assertNull(request.path("error").isNull() ? null : request.path("error").asText(), request.toString());
        assertNotNull(request.path("stream").asText());
    }
}
