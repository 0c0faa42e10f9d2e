package io.remora.xds;

import static io.remora.testkit.xds.EnvoyResources.address;
import static io.remora.testkit.xds.EnvoyResources.header;
import static io.remora.testkit.xds.EnvoyResources.rpcListener;
import static io.remora.testkit.xds.EnvoyResources.struct;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XCluster;
import io.remora.xds.XdsResources.XListener;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class XdsTranslatorTest {

    private final List<String> warnings = new ArrayList<>();
    private final XdsTranslator t = new XdsTranslator(warnings::add);

    @Test
    void ignoresUnsupportedNetworkFiltersAndKeepsTheRpcProxy() throws Exception {
        Filter rbac = Filter.newBuilder().setName("envoy.filters.network.rbac")
                .setTypedConfig(Any.pack(Struct.getDefaultInstance())).build();
        XListener x = t.listener(rpcListener("egress", "127.0.0.1", 12200,
                "{\"protocol\":\"bolt\",\"routes\":[{\"match\":{\"service\":\"*\"},\"cluster\":\"c\"}],"
                        + "\"idle_timeout_ms\":60000}", rbac));
        assertEquals("127.0.0.1:12200", x.listener().address());
        assertEquals("bolt", x.listener().protocol());
        assertEquals(60_000L, x.listener().idleTimeoutMs());
        assertEquals(Set.of("c"), x.inlineClusters());
        assertEquals(1, warnings.size());
        assertTrue(warnings.get(0).contains("envoy.filters.network.rbac"));
    }

    @Test
    void rejectsUnknownFieldsInTheRpcProxyConfig() {
        ConfigException e = assertThrows(ConfigException.class, () -> t.listener(rpcListener("egress", "127.0.0.1",
                1, "{\"protocol\":\"bolt\",\"route_config\":\"r\",\"colour\":\"red\"}")));
        assertTrue(e.getMessage().contains("colour"), e.getMessage());
    }

    @Test
    void mapsServiceAndMethodHeadersToTheRouteMatchAndOthersToHeaderMatchers() throws Exception {
        Route r = Route.newBuilder().setName("r1").setMatch(RouteMatch.newBuilder().setPrefix("")
                        .addHeaders(header(":service", "com.example.Hello:1.0")).addHeaders(header("method", "say"))
                        .addHeaders(header("x-tenant", "t1")))
                .setRoute(RouteAction.newBuilder().setTimeout(Durations.fromMillis(1500))
                        .setWeightedClusters(WeightedCluster.newBuilder()
                                .addClusters(WeightedCluster.ClusterWeight.newBuilder().setName("blue")
                                        .setWeight(UInt32Value.of(90)))
                                .addClusters(WeightedCluster.ClusterWeight.newBuilder().setName("green")
                                        .setWeight(UInt32Value.of(10))))).build();
        RouteConfiguration rc = RouteConfiguration.newBuilder().setName("rpc")
                .addVirtualHosts(VirtualHost.newBuilder().setName("all").addDomains("*").addRoutes(r)).build();
        XdsResources.XRoute x = t.route(rc);
        SidecarConfig.Route out = x.config().routes().get(0);
        assertEquals("com.example.Hello:1.0", out.match().service());
        assertEquals("say", out.match().method());
        assertEquals(List.of(new SidecarConfig.HeaderMatch("x-tenant", "t1", null, null)), out.match().headers());
        assertEquals(1500L, out.timeoutMs());
        assertEquals(List.of(new SidecarConfig.WeightedCluster("blue", 90),
                new SidecarConfig.WeightedCluster("green", 10)), out.weightedClusters());
        assertEquals(Set.of("blue", "green"), x.clusters());
    }

    @Test
    void translatesClusterPolicyLimitsAndProtocol() throws Exception {
        Cluster c = Cluster.newBuilder().setName("hello").setType(Cluster.DiscoveryType.EDS)
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setServiceName("outbound|12200||hello"))
                .setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST).setConnectTimeout(Durations.fromMillis(250))
                .setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(CircuitBreakers.Thresholds.newBuilder()
                        .setMaxPendingRequests(UInt32Value.of(64))))
                .setMetadata(Metadata.newBuilder().putFilterMetadata("remora",
                        struct("{\"protocol\":\"dubbo\",\"heartbeat_interval_ms\":15000}")))
                .build();
        XCluster x = t.cluster(c);
        assertEquals("outbound|12200||hello", x.edsName());
        assertEquals(new SidecarConfig.Cluster("hello", "dubbo", "least_request", 250L, 64, 15_000L, null, null),
                x.config());
        assertTrue(warnings.isEmpty(), warnings.toString());
    }

    @Test
    void endpointsCarryWeightLocalityAndMetadataLabelsAndSkipUnhealthy() throws Exception {
        LbEndpoint good = LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(address("10.0.0.7",
                        20880))).setLoadBalancingWeight(UInt32Value.of(3))
                .setMetadata(Metadata.newBuilder()
                        .putFilterMetadata("istio", struct("{\"version\":\"v1\",\"app\":\"hello\"}"))
                        .putFilterMetadata("remora", struct("{\"version\":\"v2\"}"))).build();
        LbEndpoint sick = LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(address("10.0.0.8",
                20880))).setHealthStatus(io.envoyproxy.envoy.config.core.v3.HealthStatus.UNHEALTHY).build();
        ClusterLoadAssignment cla = ClusterLoadAssignment.newBuilder().setClusterName("hello")
                .addEndpoints(LocalityLbEndpoints.newBuilder().setLocality(Locality.newBuilder().setRegion("r1")
                        .setZone("z1")).addLbEndpoints(good).addLbEndpoints(sick)).build();
        List<SidecarConfig.Host> hosts = t.endpoints(cla).hosts();
        assertEquals(1, hosts.size());
        assertEquals("10.0.0.7:20880", hosts.get(0).address());
        assertEquals(3, hosts.get(0).weight());
        assertEquals(Map.of("region", "r1", "zone", "z1", "version", "v2", "app", "hello"), hosts.get(0).labels());
    }

    @Test
    void rejectsPipeAddresses() {
        Listener l = Listener.newBuilder().setName("p").setAddress(io.envoyproxy.envoy.config.core.v3.Address
                .newBuilder().setPipe(io.envoyproxy.envoy.config.core.v3.Pipe.newBuilder().setPath("/tmp/x"))).build();
        l = l.toBuilder().addFilterChains(FilterChain.newBuilder().addFilters(
                io.remora.testkit.xds.EnvoyResources.typedStructFilter("p", XdsResources.RPC_PROXY,
                        "{\"protocol\":\"bolt\",\"route_config\":\"r\"}"))).build();
        Listener finalL = l;
        ConfigException e = assertThrows(ConfigException.class, () -> t.listener(finalL));
        assertTrue(e.getMessage().contains("socket_address"), e.getMessage());
    }

    @Test
    void istioTlsModeTransportSocketMatchesBecomeClusterTlsForLabelledHosts() throws Exception {
        var common = io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext.newBuilder()
                .addTlsCertificateSdsSecretConfigs(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3
                        .SdsSecretConfig.newBuilder().setName("default"))
                .setCombinedValidationContext(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext
                        .CombinedCertificateValidationContext.newBuilder()
                        .setDefaultValidationContext(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3
                                .CertificateValidationContext.newBuilder().addMatchSubjectAltNames(
                                        io.envoyproxy.envoy.type.matcher.v3.StringMatcher.newBuilder()
                                                .setExact("spiffe://cluster.local/ns/prod/sa/reviews")))
                        .setValidationContextSdsSecretConfig(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3
                                .SdsSecretConfig.newBuilder().setName("ROOTCA")))
                .addAlpnProtocols("istio-peer-exchange").addAlpnProtocols("istio");
        var utc = io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext.newBuilder()
                .setCommonTlsContext(common).setSni("outbound_.9080_._.reviews.prod.svc.cluster.local").build();
        Cluster c = io.remora.testkit.xds.EnvoyResources.edsCluster("outbound|9080||reviews.prod", null)
                .toBuilder()
                .addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder().setName("tlsMode-istio")
                        .setMatch(struct("{\"tlsMode\":\"istio\"}"))
                        .setTransportSocket(io.envoyproxy.envoy.config.core.v3.TransportSocket.newBuilder()
                                .setName("envoy.transport_sockets.tls").setTypedConfig(Any.pack(utc))))
                .addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder().setName("tlsMode-disabled")
                        .setMatch(Struct.getDefaultInstance())
                        .setTransportSocket(io.envoyproxy.envoy.config.core.v3.TransportSocket.newBuilder()
                                .setName("envoy.transport_sockets.raw_buffer").setTypedConfig(Any.pack(
                                        io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer
                                                .getDefaultInstance())))).build();
        XCluster x = t.cluster(c);
        SidecarConfig.Tls tls = x.config().tls();
        assertEquals("default", tls.certSecret());
        assertEquals("ROOTCA", tls.caSecret());
        assertEquals("outbound_.9080_._.reviews.prod.svc.cluster.local", tls.sni());
        assertEquals(List.of("istio-peer-exchange", "istio"), tls.alpn());
        assertEquals(List.of("spiffe://cluster.local/ns/prod/sa/reviews"), tls.subjectAltNames());
        assertEquals(Map.of("tlsMode", "istio"), tls.hostLabels());
        assertEquals(Set.of("default", "ROOTCA"), x.secrets());

        // and the endpoints carry Istio's tlsMode label from envoy.transport_socket_match
        LbEndpoint e = LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder().setAddress(address("10.0.0.9",
                9080))).setMetadata(Metadata.newBuilder().putFilterMetadata("envoy.transport_socket_match",
                struct("{\"tlsMode\":\"istio\"}"))).build();
        var hosts = t.endpoints(ClusterLoadAssignment.newBuilder().setClusterName("x")
                .addEndpoints(LocalityLbEndpoints.newBuilder().addLbEndpoints(e)).build()).hosts();
        assertEquals("istio", hosts.get(0).labels().get("tlsMode"));
    }

    @Test
    void istioPassthroughClustersBecomeOriginalDstClusters() throws Exception {
        Cluster passthrough = Cluster.newBuilder().setName("PassthroughCluster")
                .setType(Cluster.DiscoveryType.ORIGINAL_DST).setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED)
                .setConnectTimeout(Durations.fromMillis(10_000)).build();
        XCluster x = t.cluster(passthrough);
        assertNull(x.edsName());
        assertNull(x.skipped());
        assertEquals("original_dst", x.config().type());
        assertNull(x.config().hosts());
        assertEquals(10_000L, x.config().connectTimeoutMs());
        assertTrue(warnings.isEmpty(), warnings.toString());

        Cluster inbound = passthrough.toBuilder().setName("InboundPassthroughClusterIpv4")
                .setUpstreamBindConfig(io.envoyproxy.envoy.config.core.v3.BindConfig.newBuilder()
                        .setSourceAddress(io.envoyproxy.envoy.config.core.v3.SocketAddress.newBuilder()
                                .setAddress("127.0.0.6").setPortValue(0))).build();
        assertEquals("original_dst", t.cluster(inbound).config().type());
        assertTrue(warnings.get(0).contains("upstream_bind_config"), warnings.toString());
    }

    @Test
    void outlierDetectionMapsOntoTheCoresErrorRatioIsolation() throws Exception {
        Cluster c = io.remora.testkit.xds.EnvoyResources.edsCluster("outbound|9080||reviews", null).toBuilder()
                .setOutlierDetection(io.envoyproxy.envoy.config.cluster.v3.OutlierDetection.newBuilder()
                        .setInterval(Durations.fromSeconds(5)).setBaseEjectionTime(Durations.fromSeconds(15))
                        .setMaxEjectionPercent(UInt32Value.of(50))
                        .setEnforcingFailurePercentage(UInt32Value.of(100))
                        .setFailurePercentageThreshold(UInt32Value.of(30))
                        .setFailurePercentageRequestVolume(UInt32Value.of(20))).build();
        XCluster x = t.cluster(c);
        SidecarConfig.OutlierDetection o = x.config().outlierDetection();
        assertEquals(5, o.windowSeconds());
        assertEquals(15_000L, o.baseIsolationMs());
        assertEquals(30.0, o.errorRatioPercent());
        assertEquals(20, o.minRequests());
        assertEquals(50, x.maxEjectionPercent());

        Cluster consecutive = c.toBuilder().setOutlierDetection(io.envoyproxy.envoy.config.cluster.v3
                .OutlierDetection.newBuilder().setConsecutive5Xx(UInt32Value.of(7))).build();
        o = t.cluster(consecutive).config().outlierDetection();
        assertEquals(7, o.minRequests());
        assertEquals(50.0, o.errorRatioPercent());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("approximated")), warnings.toString());
    }

    @Test
    void unsupportedClusterTypesAreSkippedWithAWarningInsteadOfNacked() throws Exception {
        Cluster aggregate = Cluster.newBuilder().setName("agg").setClusterType(Cluster.CustomClusterType.newBuilder()
                .setName("envoy.clusters.aggregate")).build();
        XCluster x = t.cluster(aggregate);
        assertTrue(x.skipped().contains("envoy.clusters.aggregate"), x.skipped());
        assertTrue(warnings.get(0).contains("cluster \"agg\"") && warnings.get(0).contains("skipped"),
                warnings.toString());

        // assembled: the skipped cluster is absent; a listener routing to it is a NACK naming both
        SidecarConfig base = new SidecarConfig(null, null, null, null, null, null, null, null);
        var assembled = ConfigAssembler.assemble(base, Map.of("agg", x), Map.of(), Map.of(), Map.of(), null, k -> false);
        assertTrue(assembled.config().clusters().isEmpty());
        XListener l = t.listener(rpcListener("egress", "127.0.0.1", 12200,
                "{\"protocol\":\"bolt\",\"routes\":[{\"match\":{\"service\":\"*\"},\"cluster\":\"agg\"}]}"));
        ConfigException e = assertThrows(ConfigException.class, () -> ConfigAssembler.assemble(base,
                Map.of("agg", x), Map.of(), Map.of("egress", l), Map.of(), null, k -> false));
        assertTrue(e.getMessage().contains("listener \"egress\"") && e.getMessage().contains("\"agg\"")
                && e.getMessage().contains("skipped"), e.getMessage());
    }
}
