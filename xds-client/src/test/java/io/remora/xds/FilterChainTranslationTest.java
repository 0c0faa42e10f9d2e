package io.remora.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XListener;
import io.remora.testkit.xds.EnvoyResources;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Envoy listeners as Istio sends them, translated into the core's filter chains, TLS and tcp proxies. */
class FilterChainTranslationTest {

    private final List<String> warnings = new ArrayList<>();
    private final XdsTranslator t = new XdsTranslator(warnings::add);

    @Test
    void virtualOutboundBecomesAnOriginalDstListenerWithChainsAndADefaultChain() throws Exception {
        XListener x = t.listener(IstioShapedPush.virtualOutbound(15001));
        SidecarConfig.Listener l = x.listener();
        assertEquals("0.0.0.0:15001", l.address());
        assertTrue(l.useOriginalDst());
        assertNull(l.protocol(), "chained: each chain has its own protocol");
        assertEquals("outbound", l.direction());
        SidecarConfig.FilterChain c = l.filterChains().get(0);
        assertEquals("127.0.0.3_15001", c.name());
        assertEquals(List.of("127.0.0.3/32"), c.match().prefixRanges());
        assertEquals("tcp", c.protocol());
        assertEquals(IstioShapedPush.HELLO, c.routes().get(0).cluster());
        assertEquals(3_600_000L, c.idleTimeoutMs());
        assertEquals("PassthroughCluster", l.defaultFilterChain().routes().get(0).cluster());
        assertEquals(Set.of(IstioShapedPush.HELLO, "PassthroughCluster"), x.inlineClusters());
        assertTrue(warnings.stream().noneMatch(w -> w.contains("listener filter")), warnings.toString());
    }

    @Test
    void perDestinationHttpListenerIsUnboundWithAnHttpChainOnRdsAndAPassthroughChain() throws Exception {
        XListener x = t.listener(IstioShapedPush.outboundHttp("10.96.0.7", 9080));
        SidecarConfig.Listener l = x.listener();
        assertEquals(false, l.bindToPort());
        assertEquals(2, l.filterChains().size());
        SidecarConfig.FilterChain http = l.filterChains().get(0);
        assertEquals(List.of("http/1.1", "h2c"), http.match().applicationProtocols());
        assertEquals("http", http.protocol());
        assertEquals("9080", http.routeConfig());
        assertNull(http.filters(), "Istio's telemetry filters add nothing");
        assertEquals(Set.of("9080"), x.rdsNames());
        assertEquals("tcp", l.filterChains().get(1).protocol());
    }

    @Test
    void virtualInboundChainsCarryDownstreamMtlsFromSds() throws Exception {
        XListener x = t.listener(IstioShapedPush.virtualInbound(15006));
        SidecarConfig.FilterChain mtls = x.listener().filterChains().get(0);
        assertEquals("tls", mtls.match().transportProtocol());
        assertEquals(15006, mtls.match().destinationPort());
        assertEquals(new SidecarConfig.Tls(null, null, null, "default", "ROOTCA", null, List.of("h2", "http/1.1"),
                true, null, null), mtls.tls());
        assertEquals("inbound", x.listener().direction());
        assertEquals(Set.of("default", "ROOTCA"), x.secrets());
        assertNull(x.listener().filterChains().get(1).tls());
    }

    @Test
    void aSingleUnmatchedChainKeepsTheSingleChainForm() throws Exception {
        Listener l = EnvoyResources.httpListener("web", "127.0.0.1", 8080, "r");
        SidecarConfig.Listener out = t.listener(l).listener();
        assertNull(out.filterChains());
        assertEquals("http", out.protocol());
        assertEquals("r", out.routeConfig());
    }

    @Test
    void tcpProxyWithoutAClusterIsNackedNamingTheChain() {
        Listener l = Listener.newBuilder().setName("db").setAddress(EnvoyResources.address("10.0.0.1", 3306))
                .addFilterChains(FilterChain.newBuilder().setName("mysql").addFilters(Filter.newBuilder()
                        .setName("envoy.filters.network.tcp_proxy").setTypedConfig(Any.pack(TcpProxy.newBuilder()
                                .setStatPrefix("mysql").build())))).build();
        ConfigException e = assertThrows(ConfigException.class, () -> t.listener(l));
        assertTrue(e.getMessage().contains("listener \"db\".filter_chains[mysql].tcp_proxy"), e.getMessage());
        assertTrue(e.getMessage().contains("cluster"), e.getMessage());
    }

    @Test
    void inlineTlsMaterialInAListenerIsNackedPointingAtSds() {
        DownstreamTlsContext dtc = DownstreamTlsContext.newBuilder().setCommonTlsContext(CommonTlsContext.newBuilder()
                .addTlsCertificates(TlsCertificate.newBuilder()
                        .setCertificateChain(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8("x")))
                        .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFromUtf8("y"))))).build();
        Listener l = IstioShapedPush.virtualInbound(15006).toBuilder().setFilterChains(0,
                IstioShapedPush.virtualInbound(15006).getFilterChains(0).toBuilder().setTransportSocket(
                        TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                                .setTypedConfig(Any.pack(dtc)))).build();
        ConfigException e = assertThrows(ConfigException.class, () -> t.listener(l));
        assertTrue(e.getMessage().contains("transport_socket.common_tls_context.tls_certificates[0]")
                && e.getMessage().contains("SDS"), e.getMessage());
    }

    @Test
    void chainsMatchingOnTheSourceAreSkippedAndUnknownListenerFiltersWarned() throws Exception {
        Listener l = IstioShapedPush.virtualOutbound(15001).toBuilder()
                .addListenerFilters(ListenerFilter.newBuilder().setName("envoy.filters.listener.proxy_protocol"))
                .addFilterChains(FilterChain.newBuilder().setName("from-lan").setFilterChainMatch(FilterChainMatch
                        .newBuilder().addSourcePrefixRanges(io.envoyproxy.envoy.config.core.v3.CidrRange.newBuilder()
                                .setAddressPrefix("10.0.0.0").setPrefixLen(com.google.protobuf.UInt32Value.of(8))))
                        .addFilters(Filter.newBuilder().setName("envoy.filters.network.tcp_proxy")
                                .setTypedConfig(Any.pack(TcpProxy.newBuilder().setCluster("x").build())))).build();
        SidecarConfig.Listener out = t.listener(l).listener();
        assertEquals(1, out.filterChains().size(), "the source-matched chain is left out");
        assertTrue(warnings.stream().anyMatch(w -> w.contains("from-lan") && w.contains("source")), warnings.toString());
        assertTrue(warnings.stream().anyMatch(w -> w.contains("proxy_protocol")), warnings.toString());
    }

    @Test
    void sdsSecretsCarryPemButNeverShowIt() throws Exception {
        var s = TlsTranslator.secret(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.newBuilder()
                .setName("ROOTCA").setValidationContext(io.envoyproxy.envoy.extensions.transport_sockets.tls.v3
                        .CertificateValidationContext.newBuilder().setTrustedCa(DataSource.newBuilder()
                                .setInlineString("-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n")))
                .build());
        assertTrue(s.secret().trustedCaPem().contains("BEGIN"));
        assertTrue(!s.toString().contains("BEGIN"), s.toString());
        ConfigException e = assertThrows(ConfigException.class, () -> TlsTranslator.secret(
                io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret.newBuilder().setName("x").build()));
        assertTrue(e.getMessage().contains("secret \"x\""), e.getMessage());
    }
}
