package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.GOVERNANCE;
import static io.remora.testkit.xds.EnvoyResources.edsCluster;
import static io.remora.testkit.xds.EnvoyResources.endpoint;
import static io.remora.testkit.xds.EnvoyResources.endpoints;
import static io.remora.testkit.xds.EnvoyResources.route;
import static io.remora.testkit.xds.EnvoyResources.routeConfig;
import static io.remora.testkit.xds.EnvoyResources.rpcListener;
import static io.remora.testkit.xds.EnvoyResources.udpaTypedStructFilter;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.remora.core.cluster.Host;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import io.remora.testing.TestSidecar;
import io.remora.testkit.xds.ControlPlane;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class XdsClientTest {

    private ControlPlane cp;
    private TestSidecar sidecar;

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (cp != null) {
            cp.close();
        }
    }

    private TestSidecar startSidecar(int cpPort, long initialFetchTimeoutMs) throws Exception {
        return TestSidecar.start("""
                {"admin":{"port":0},
                 "node":{"id":"sidecar~10.0.0.1~demo-0.ns~ns.svc.cluster.local","app":"demo","labels":{"zone":"a"}},
                 "extensions":{"xds":{"address":"127.0.0.1:%d","initial_fetch_timeout_ms":%d,
                                      "warming_timeout_ms":3000,"metadata":{"ISTIO_VERSION":"1.22"}}}}
                """.formatted(cpPort, initialFetchTimeoutMs));
    }

    private static final String RPC_PROXY = """
            {"protocol":"xdstest","direction":"outbound","route_config":"rpc_routes"}""";

    private static Listener egress(String name) {
        return rpcListener(name, "127.0.0.1", 0, RPC_PROXY);
    }

    private static RouteConfiguration routes(String... clusters) {
        List<io.envoyproxy.envoy.config.route.v3.Route> rs = new ArrayList<>();
        for (String c : clusters) {
            rs.add(route("com.example." + c + ":1.0", null, c, 3000));
        }
        return routeConfig("rpc_routes", rs.toArray(new io.envoyproxy.envoy.config.route.v3.Route[0]));
    }

    private static ClusterLoadAssignment cla(String cluster, LbEndpoint... eps) {
        return endpoints(cluster, Arrays.asList(eps));
    }

    private static LbEndpoint ep(int port, int weight, Map<String, String> labels) {
        return endpoint("127.0.0.1", port, weight, labels, HealthStatus.HEALTHY);
    }

    private static Snapshot snapshot(String version, List<Cluster> clusters, List<ClusterLoadAssignment> clas,
                                     List<Listener> listeners, List<RouteConfiguration> routes) {
        return Snapshot.create(clusters, clas, listeners, routes, List.of(), version);
    }

    private static Snapshot v1() {
        return snapshot("1", List.of(edsCluster("hello", "xdstest"), edsCluster("world", null)),
                List.of(cla("hello", ep(20001, 1, Map.of("zone", "a")), ep(20002, 1, Map.of("zone", "b"))),
                        cla("world", ep(20003, 1, Map.of()))),
                List.of(egress("egress_rpc"), rpcListener("egress_world", "127.0.0.1", 0, """
                        {"protocol":"xdstest","routes":[{"match":{"service":"*"},"cluster":"world"}]}""")),
                List.of(routes("hello", "world")));
    }

    private ConfigSnapshot current() {
        return sidecar.sidecar().config().current();
    }

    private static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private JsonNode xdsStatus() throws Exception {
        TestSidecar.AdminReply r = sidecar.admin("GET", "/api/v1/xds", null);
        assertEquals(200, r.status(), r.body());
        return ConfigLoader.mapper().readTree(r.body());
    }

    private List<DiscoveryRequest> requests(String typeUrl) {
        return cp.requests().stream().filter(r -> r.getTypeUrl().equals(typeUrl)).collect(Collectors.toList());
    }

    private boolean acked(String typeUrl, String version) {
        return requests(typeUrl).stream().anyMatch(r -> r.getVersionInfo().equals(version)
                && !r.getResponseNonce().isEmpty() && !r.hasErrorDetail());
    }

    private List<String> hostAddresses(String cluster) {
        return Arrays.stream(current().cluster(cluster).hosts()).map(Host::toString).toList();
    }

    private SidecarConfig.Cluster sourceCluster(String name) {
        return current().source().clusters().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    private void startWithV1() throws Exception {
        cp = new ControlPlane(0);
        cp.push(v1());
        sidecar = startSidecar(cp.port(), 60_000);
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
    }

    @Test
    void servesListenersRoutesClustersAndEndpointsLearnedOnlyOverXds() throws Exception {
        cp = new ControlPlane(0);
        sidecar = startSidecar(cp.port(), 60_000);
        await("the sidecar to subscribe", () -> !requests(XdsResources.LISTENER).isEmpty());
        assertEquals(503, sidecar.admin("GET", "/ready", null).status(), "not ready before the first full config");
        DiscoveryRequest first = requests(XdsResources.CLUSTER).get(0);
        assertEquals("sidecar~10.0.0.1~demo-0.ns~ns.svc.cluster.local", first.getNode().getId());
        assertEquals("ns", first.getNode().getMetadata().getFieldsOrThrow("NAMESPACE").getStringValue());
        assertEquals("demo", first.getNode().getMetadata().getFieldsOrThrow("APP").getStringValue());
        assertEquals("a", first.getNode().getMetadata().getFieldsOrThrow("LABELS").getStructValue()
                .getFieldsOrThrow("zone").getStringValue(), "Istio reads LABELS as a map");
        assertEquals("1.22", first.getNode().getMetadata().getFieldsOrThrow("ISTIO_VERSION").getStringValue());

        cp.push(v1());
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);

        ConfigSnapshot s = current();
        assertEquals(Set2.of("egress_rpc", "egress_world"), s.listeners().keySet());
        assertEquals("xdstest", s.listeners().get("egress_rpc").protocol());
        assertTrue(sidecar.port("egress_rpc") > 0);
        assertEquals(List.of("rpc_routes"), s.source().routeConfigs().stream().map(SidecarConfig.RouteConfig::name)
                .toList());
        SidecarConfig.Route r0 = s.source().routeConfigs().get(0).routes().get(0);
        assertEquals("com.example.hello:1.0", r0.match().service());
        assertEquals("hello", r0.cluster());
        assertEquals(3000L, r0.timeoutMs());
        assertEquals(2, s.cluster("hello").hosts().length);
        SidecarConfig.Cluster hello = sourceCluster("hello");
        assertEquals("xdstest", hello.protocol());
        assertEquals(1500L, hello.connectTimeoutMs());
        assertEquals(Map.of("zone", "b"), hello.hosts().get(1).labels());
        for (String t : List.of(XdsResources.CLUSTER, XdsResources.ENDPOINT, XdsResources.LISTENER,
                XdsResources.ROUTE)) { // no TLS here: SDS is never asked for
            assertTrue(acked(t, "1"), "ACK of version 1 for " + t);
        }
        JsonNode st = xdsStatus();
        assertEquals("connected", st.get("state").asText());
        assertEquals("1", st.at("/types/lds/version").asText());
        assertEquals("1", st.at("/types/eds/resources/hello/version").asText());
        assertTrue(st.at("/counters/acks").asLong() >= 4);
        assertTrue(sidecar.admin("GET", "/api/v1/config_dump", null).body().contains("rpc_routes"));
    }

    @Test
    void endpointChangesAndResourceRemovalsTakeEffect() throws Exception {
        startWithV1();
        int port = sidecar.port("egress_rpc");

        cp.push(snapshot("2", List.of(edsCluster("hello", "xdstest"), edsCluster("world", null)),
                List.of(cla("hello", ep(20002, 5, Map.of("zone", "c")), ep(20004, 1, Map.of("zone", "a")),
                                endpoint("127.0.0.1", 20005, 1, Map.of(), HealthStatus.UNHEALTHY),
                                endpoint("127.0.0.1", 20006, 1, Map.of(), HealthStatus.DRAINING)),
                        cla("world", ep(20003, 1, Map.of()))),
                List.of(egress("egress_rpc"), rpcListener("egress_world", "127.0.0.1", 0, """
                        {"protocol":"xdstest","routes":[{"match":{"service":"*"},"cluster":"world"}]}""")),
                List.of(routes("hello", "world"))));
        await("endpoints v2", () -> acked(XdsResources.ENDPOINT, "2")
                && sourceCluster("hello").hosts().size() == 2);
        List<SidecarConfig.Host> hosts = sourceCluster("hello").hosts();
        assertEquals("127.0.0.1:20002", hosts.get(0).address());
        assertEquals(5, hosts.get(0).weight());
        assertEquals(Map.of("zone", "c"), hosts.get(0).labels());
        assertEquals("127.0.0.1:20004", hosts.get(1).address());
        assertEquals(port, sidecar.port("egress_rpc"), "an unchanged listener keeps its socket");

        // v3: listener egress_world and cluster world are gone, and so is the route to world.
        cp.push(snapshot("3", List.of(edsCluster("hello", "xdstest")),
                List.of(cla("hello", ep(20002, 5, Map.of("zone", "c")))),
                List.of(egress("egress_rpc")), List.of(routes("hello"))));
        await("removals", () -> acked(XdsResources.ROUTE, "3") && current().clusters().get("world") == null
                && !current().listeners().containsKey("egress_world"));
        assertEquals(Set2.of("hello"), current().clusters().keySet());
        assertEquals(port, sidecar.port("egress_rpc"));
        assertEquals(1, current().cluster("hello").hosts().length);
    }

    @Test
    void invalidResourceIsNackedWithDetailAndOldConfigKeepsServing() throws Exception {
        startWithV1();
        int port = sidecar.port("egress_rpc");
        Snapshot bad = snapshot("2", List.of(edsCluster("hello", "xdstest"), edsCluster("world", null)),
                List.of(cla("hello", ep(20001, 1, Map.of())), cla("world", ep(20003, 1, Map.of()))),
                List.of(rpcListener("egress_rpc", "127.0.0.1", 70000, RPC_PROXY)),
                List.of(routes("hello", "world")));
        cp.push(bad);
        await("a NACK of LDS version 2", () -> requests(XdsResources.LISTENER).stream()
                .anyMatch(DiscoveryRequest::hasErrorDetail));
        DiscoveryRequest nack = requests(XdsResources.LISTENER).stream().filter(DiscoveryRequest::hasErrorDetail)
                .findFirst().orElseThrow();
        assertEquals("1", nack.getVersionInfo(), "a NACK carries the last good version");
        assertFalse(nack.getResponseNonce().isEmpty());
        assertTrue(nack.getErrorDetail().getMessage().contains("70000"), nack.getErrorDetail().getMessage());
        assertTrue(nack.getErrorDetail().getMessage().contains("address"), nack.getErrorDetail().getMessage());

        assertEquals(port, sidecar.port("egress_rpc"), "the running listener keeps serving");
        assertTrue(current().listeners().containsKey("egress_world"));
        assertEquals(200, sidecar.admin("GET", "/ready", null).status());
        JsonNode st = xdsStatus();
        assertTrue(st.at("/counters/nacks").asLong() >= 1);
        assertEquals("1", st.at("/types/lds/version").asText());
        assertTrue(st.at("/types/lds/last_nack").asText().contains("70000"));

        // A cluster type we cannot honour is skipped; a route still pointing at it NACKs the response.
        cp.push(snapshot("3", List.of(edsCluster("hello", "xdstest"), Cluster.newBuilder().setName("world")
                        .setClusterType(Cluster.CustomClusterType.newBuilder().setName("envoy.clusters.aggregate"))
                        .build()),
                List.of(cla("hello", ep(20001, 1, Map.of()))), List.of(egress("egress_rpc")),
                List.of(routes("hello", "world"))));
        await("a NACK of CDS version 3", () -> requests(XdsResources.CLUSTER).stream()
                .anyMatch(r -> r.hasErrorDetail() && r.getErrorDetail().getMessage().contains("envoy.clusters.aggregate")));
        assertEquals(1, current().cluster("world").hosts().length);
    }

    @Test
    void keepsConfigAcrossControlPlaneRestartAndReconnectsWithBackoff() throws Exception {
        startWithV1();
        int cpPort = cp.port();
        long version = current().version();
        cp.close();
        await("two reconnect attempts", () -> {
            try {
                return xdsStatus().at("/counters/reconnects").asLong() >= 2;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        JsonNode st = xdsStatus();
        assertTrue(st.at("/counters/disconnects").asLong() >= 2);
        assertTrue(st.at("/backoff_attempt").asInt() >= 2);
        assertTrue(st.at("/last_error").asText().contains("UNAVAILABLE"), st.at("/last_error").asText());
        assertEquals(version, current().version(), "losing the control plane changes nothing");
        assertEquals(200, sidecar.admin("GET", "/ready", null).status());
        assertEquals(2, current().cluster("hello").hosts().length);

        cp = new ControlPlane(cpPort);
        cp.push(snapshot("2", List.of(edsCluster("hello", "xdstest")),
                List.of(cla("hello", ep(20009, 1, Map.of()))), List.of(egress("egress_rpc")),
                List.of(routes("hello"))));
        await("version 2 after reconnect", () -> acked(XdsResources.ROUTE, "2")
                && current().cluster("hello").hosts().length == 1
                && sourceCluster("hello").hosts().get(0).address().equals("127.0.0.1:20009"));
        assertEquals("connected", xdsStatus().get("state").asText());
        assertEquals(0, xdsStatus().get("backoff_attempt").asInt(), "backoff resets once a response arrives");
    }

    @Test
    void governanceRulesPushedOverXdsLandInExtensions() throws Exception {
        cp = new ControlPlane(0);
        String rules = """
                {"rate_limit":[{"service":"com.example.hello:1.0","qps":100,"burst":20}],
                 "circuit_breaker":{"error_ratio":0.5}}""";
        cp.push(snapshot("1", List.of(edsCluster("hello", "xdstest")),
                List.of(cla("hello", ep(20001, 1, Map.of()))),
                List.of(rpcListener("egress_rpc", "127.0.0.1", 0, RPC_PROXY,
                        udpaTypedStructFilter("remora.governance", GOVERNANCE, rules))),
                List.of(routes("hello"))));
        sidecar = startSidecar(cp.port(), 60_000);
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
        JsonNode gov = current().source().extensions().get("governance");
        assertNotNull(gov);
        assertEquals(ConfigLoader.mapper().readTree(rules), gov);
        assertEquals(100, gov.at("/rate_limit/0/qps").intValue(), "whole numbers stay integers");
        assertNotNull(current().source().extensions().get("xds"), "the bootstrap's sections are kept");
    }

    @Test
    void appliesTenThousandEndpointsInOneEdsPush() throws Exception {
        startWithV1();
        List<LbEndpoint> many = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            many.add(endpoint("10.1." + (i / 250) + "." + (i % 250 + 1), 12200, 1 + i % 3,
                    Map.of("zone", "z" + i % 4), HealthStatus.HEALTHY));
        }
        cp.push(snapshot("2", List.of(edsCluster("hello", "xdstest"), edsCluster("world", null)),
                List.of(endpoints("hello", many), cla("world", ep(20003, 1, Map.of()))),
                List.of(egress("egress_rpc")), List.of(routes("hello", "world"))));
        await("10000 endpoints", () -> current().cluster("hello").hosts().length == 10_000
                && acked(XdsResources.ENDPOINT, "2"));
        JsonNode st = xdsStatus();
        System.out.println("xds: 10000-endpoint EDS push: config apply " + st.get("last_apply_ms").asLong()
                + " ms, whole response (decode, translate, assemble, apply, ACK) " + st.at("/types/eds/last_process_ms").asLong()
                + " ms");
        assertEquals(10_000, sourceCluster("hello").hosts().size());
    }

    @Test
    void frozenSidecarHoldsUpdatesUntilResumed() throws Exception {
        startWithV1();
        assertEquals(200, sidecar.admin("POST", "/api/v1/xds/freeze", null).status());
        cp.push(snapshot("2", List.of(edsCluster("hello", "xdstest"), edsCluster("world", null)),
                List.of(cla("hello", ep(20007, 1, Map.of())), cla("world", ep(20003, 1, Map.of()))),
                List.of(egress("egress_rpc")), List.of(routes("hello", "world"))));
        await("held responses", () -> {
            try {
                return xdsStatus().get("held").size() >= 2;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertTrue(xdsStatus().get("frozen").asBoolean());
        assertFalse(acked(XdsResources.CLUSTER, "2"), "nothing is ACKed while frozen");
        assertEquals(2, current().cluster("hello").hosts().length, "nothing is applied while frozen");
        assertTrue(current().listeners().containsKey("egress_world"));

        assertEquals(200, sidecar.admin("POST", "/api/v1/xds/resume", null).status());
        await("version 2 after resume", () -> acked(XdsResources.ROUTE, "2")
                && !current().listeners().containsKey("egress_world")
                && current().cluster("hello").hosts().length == 1);
        assertFalse(xdsStatus().get("frozen").asBoolean());
    }

    @Test
    void configDigestMatchesTheResourcesTheControlPlaneSent() throws Exception {
        startWithV1();
        Snapshot s = v1();
        JsonNode d = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/config_digest", null).body());
        assertEquals(Digests.sha256(s.clusters().resources()), d.at("/cds/digest").asText());
        assertEquals(Digests.sha256(s.listeners().resources()), d.at("/lds/digest").asText());
        assertEquals(Digests.sha256(s.endpoints().resources()), d.at("/eds/digest").asText());
        assertEquals(Digests.sha256(s.routes().resources()), d.at("/rds/digest").asText());
        assertEquals(2, d.at("/cds/resources").asInt());
        assertNull(d.get("missing"));
    }

    /** Set.of with a readable name in assertions. */
    private static final class Set2 {
        static java.util.Set<String> of(String... s) {
            return java.util.Set.of(s);
        }
    }
}
