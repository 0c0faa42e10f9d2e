package io.remora.xds;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.BindConfig;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.FilterChainMatch;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CommonTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.Secret;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.TlsCertificate;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.remora.testkit.xds.EnvoyResources;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The resources istiod pushes to a sidecar, in their real shapes (names, filters, matches, TLS), scaled down to
 * loopback: {@code virtualOutbound} (use_original_dst, listener filters, a tcp_proxy chain by destination, the
 * passthrough default chain), a per-destination {@code bind_to_port: false} HTTP listener with Istio's HTTP filters
 * on RDS, {@code virtualInbound} with mTLS (tls_inspector, ALPN istio) and plaintext chains, Istio's passthrough and
 * blackhole clusters, {@code outbound|port||host} EDS clusters with tlsMode-istio transport socket matches, and the
 * SDS secrets {@code default} and {@code ROOTCA}.
 */
final class IstioShapedPush {

    static final String SA = "spiffe://cluster.local/ns/prod/sa/echo";
    static final String ECHO = "outbound|9080||echo.prod.svc.cluster.local";
    static final String HELLO = "outbound|12200||hello.prod.svc.cluster.local";
    static final String INBOUND = "inbound|8080||";

    private IstioShapedPush() {
    }

    private static Any typedStruct(String typeUrl) {
        return Any.pack(com.github.udpa.udpa.type.v1.TypedStruct.newBuilder().setTypeUrl(typeUrl).build());
    }

    static Secret certificate(String name, Path cert, Path key) throws IOException {
        return Secret.newBuilder().setName(name).setTlsCertificate(TlsCertificate.newBuilder()
                .setCertificateChain(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(Files.readAllBytes(cert))))
                .setPrivateKey(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(Files.readAllBytes(key)))))
                .build();
    }

    static Secret rootCa(Path ca) throws IOException {
        return Secret.newBuilder().setName("ROOTCA").setValidationContext(CertificateValidationContext.newBuilder()
                .setTrustedCa(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(Files.readAllBytes(ca)))))
                .build();
    }

    private static SdsSecretConfig sds(String name) {
        return SdsSecretConfig.newBuilder().setName(name).setSdsConfig(ConfigSource.newBuilder()
                .setAds(AggregatedConfigSource.getDefaultInstance())).build();
    }

    private static CommonTlsContext.Builder istioCommon(boolean client) {
        CertificateValidationContext.Builder v = CertificateValidationContext.newBuilder();
        if (client) {
            v.addMatchSubjectAltNames(StringMatcher.newBuilder().setExact(SA));
        }
        return CommonTlsContext.newBuilder().addTlsCertificateSdsSecretConfigs(sds("default"))
                .setCombinedValidationContext(CommonTlsContext.CombinedCertificateValidationContext.newBuilder()
                        .setDefaultValidationContext(v).setValidationContextSdsSecretConfig(sds("ROOTCA")))
                .addAlpnProtocols(client ? "istio-peer-exchange" : "h2").addAlpnProtocols(client ? "istio"
                        : "http/1.1");
    }

    static Cluster passthrough() {
        return Cluster.newBuilder().setName("PassthroughCluster").setType(Cluster.DiscoveryType.ORIGINAL_DST)
                .setLbPolicy(Cluster.LbPolicy.CLUSTER_PROVIDED).setConnectTimeout(Durations.fromSeconds(10)).build();
    }

    static Cluster inboundPassthrough() {
        return passthrough().toBuilder().setName("InboundPassthroughClusterIpv4")
                .setUpstreamBindConfig(BindConfig.newBuilder().setSourceAddress(SocketAddress.newBuilder()
                        .setAddress("127.0.0.6").setPortValue(0))).build();
    }

    static Cluster blackHole() {
        return Cluster.newBuilder().setName("BlackHoleCluster").setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(Durations.fromSeconds(10)).build();
    }

    /** An outbound EDS cluster: mTLS to endpoints labelled tlsMode=istio, plaintext to the others, as istiod. */
    static Cluster outbound(String name, String sni) {
        UpstreamTlsContext utc = UpstreamTlsContext.newBuilder().setCommonTlsContext(istioCommon(true)).setSni(sni)
                .build();
        return EnvoyResources.edsCluster(name, null).toBuilder().setLbPolicy(Cluster.LbPolicy.LEAST_REQUEST)
                .setOutlierDetection(OutlierDetection.newBuilder().setConsecutive5Xx(UInt32Value.of(5))
                        .setInterval(Durations.fromSeconds(10)).setBaseEjectionTime(Durations.fromSeconds(30))
                        .setMaxEjectionPercent(UInt32Value.of(100)))
                .addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder().setName("tlsMode-istio")
                        .setMatch(EnvoyResources.struct("{\"tlsMode\":\"istio\"}"))
                        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                                .setTypedConfig(Any.pack(utc))))
                .addTransportSocketMatches(Cluster.TransportSocketMatch.newBuilder().setName("tlsMode-disabled")
                        .setMatch(Struct.getDefaultInstance())
                        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.raw_buffer")
                                .setTypedConfig(Any.pack(io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer
                                        .v3.RawBuffer.getDefaultInstance()))))
                .build();
    }

    static Cluster inbound(int appPort) {
        return Cluster.newBuilder().setName(INBOUND).setType(Cluster.DiscoveryType.STATIC)
                .setConnectTimeout(Durations.fromSeconds(10))
                .setLoadAssignment(EnvoyResources.endpoints(INBOUND, List.of(EnvoyResources.endpoint("127.0.0.1",
                        appPort, 1, java.util.Map.of(), io.envoyproxy.envoy.config.core.v3.HealthStatus.HEALTHY))))
                .build();
    }

    /** EDS for a cluster; {@code istio}: the endpoint is a sidecar (tlsMode istio: mTLS). */
    static ClusterLoadAssignment endpoints(String cluster, int port, boolean istio) {
        LbEndpoint.Builder e = LbEndpoint.newBuilder().setEndpoint(Endpoint.newBuilder()
                .setAddress(EnvoyResources.address("127.0.0.1", port)));
        Metadata.Builder md = Metadata.newBuilder().putFilterMetadata("istio",
                EnvoyResources.struct("{\"workload\":\"echo;prod;echo;v1;Kubernetes\"}"));
        if (istio) {
            md.putFilterMetadata("envoy.transport_socket_match", EnvoyResources.struct("{\"tlsMode\":\"istio\"}"));
        }
        return ClusterLoadAssignment.newBuilder().setClusterName(cluster).addEndpoints(LocalityLbEndpoints
                .newBuilder().addLbEndpoints(e.setMetadata(md))).build();
    }

    private static Filter tcpProxy(String statPrefix, String cluster) {
        return Filter.newBuilder().setName("envoy.filters.network.tcp_proxy").setTypedConfig(Any.pack(TcpProxy
                .newBuilder().setStatPrefix(statPrefix).setCluster(cluster)
                .setIdleTimeout(Durations.fromSeconds(3600)).build())).build();
    }

    private static Filter peerMetadata() {
        return Filter.newBuilder().setName("istio.metadata_exchange").setTypedConfig(
                typedStruct("type.googleapis.com/envoy.tcp.metadataexchange.config.MetadataExchange")).build();
    }

    private static List<HttpFilter> istioHttpFilters() {
        List<HttpFilter> l = new ArrayList<>();
        l.add(HttpFilter.newBuilder().setName("istio.metadata_exchange")
                .setTypedConfig(typedStruct("type.googleapis.com/io.istio.http.peer_metadata.Config")).build());
        l.add(EnvoyResources.httpFilter("envoy.filters.http.grpc_stats",
                "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig", false));
        l.add(EnvoyResources.httpFilter("istio.alpn",
                "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig", false));
        l.add(EnvoyResources.httpFilter("envoy.filters.http.cors",
                "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors", false));
        l.add(HttpFilter.newBuilder().setName("envoy.filters.http.fault").setTypedConfig(Any.pack(
                io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDefaultInstance())).build());
        l.add(HttpFilter.newBuilder().setName("istio.stats")
                .setTypedConfig(typedStruct("type.googleapis.com/stats.PluginConfig")).build());
        l.add(EnvoyResources.httpFilter("envoy.filters.http.router", EnvoyResources.ROUTER, false));
        return l;
    }

    private static Filter hcm(String statPrefix, String rds, RouteConfiguration inline, TrafficDirection dir) {
        HttpConnectionManager.Builder h = HttpConnectionManager.newBuilder().setStatPrefix(statPrefix)
                .addAllHttpFilters(istioHttpFilters());
        if (rds != null) {
            h.setRds(Rds.newBuilder().setRouteConfigName(rds).setConfigSource(ConfigSource.newBuilder()
                    .setAds(AggregatedConfigSource.getDefaultInstance())));
        } else {
            h.setRouteConfig(inline);
        }
        return Filter.newBuilder().setName("envoy.filters.network.http_connection_manager")
                .setTypedConfig(Any.pack(h.build())).build();
    }

    private static List<ListenerFilter> listenerFilters() {
        return List.of(
                ListenerFilter.newBuilder().setName("envoy.filters.listener.original_dst").build(),
                ListenerFilter.newBuilder().setName("envoy.filters.listener.tls_inspector").build(),
                ListenerFilter.newBuilder().setName("envoy.filters.listener.http_inspector").build());
    }

    private static CidrRange cidr(String ip, int len) {
        return CidrRange.newBuilder().setAddressPrefix(ip).setPrefixLen(UInt32Value.of(len)).build();
    }

    /** 0.0.0.0:port, use_original_dst; a tcp_proxy chain for 127.0.0.3 (a Bolt service), passthrough otherwise. */
    static Listener virtualOutbound(int port) {
        return Listener.newBuilder().setName("virtualOutbound").setAddress(EnvoyResources.address("0.0.0.0", port))
                .setTrafficDirection(TrafficDirection.OUTBOUND).setUseOriginalDst(com.google.protobuf.BoolValue.of(true))
                .addAllListenerFilters(listenerFilters())
                .addFilterChains(FilterChain.newBuilder().setName("127.0.0.3_" + port)
                        .setFilterChainMatch(FilterChainMatch.newBuilder().addPrefixRanges(cidr("127.0.0.3", 32)))
                        .addFilters(peerMetadata()).addFilters(tcpProxy(HELLO, HELLO)))
                .setDefaultFilterChain(FilterChain.newBuilder().setName("PassthroughFilterChain")
                        .addFilters(tcpProxy("PassthroughCluster", "PassthroughCluster")))
                .build();
    }

    /** The per-destination outbound HTTP listener: not bound, HTTP detected, else passthrough. */
    static Listener outboundHttp(String ip, int port) {
        return Listener.newBuilder().setName(ip + "_" + port).setAddress(EnvoyResources.address(ip, port))
                .setBindToPort(com.google.protobuf.BoolValue.of(false)).setTrafficDirection(TrafficDirection.OUTBOUND)
                .addAllListenerFilters(listenerFilters())
                .addFilterChains(FilterChain.newBuilder().setFilterChainMatch(FilterChainMatch.newBuilder()
                                .addApplicationProtocols("http/1.1").addApplicationProtocols("h2c"))
                        .addFilters(hcm(ip + "_" + port, "9080", null, TrafficDirection.OUTBOUND)))
                .addFilterChains(FilterChain.newBuilder().setName("PassthroughFilterChain")
                        .addFilters(tcpProxy("PassthroughCluster", "PassthroughCluster")))
                .build();
    }

    /** virtualInbound: mTLS (ALPN istio) and plaintext chains for the app port, HTTP to inbound|8080||. */
    static Listener virtualInbound(int port) {
        RouteConfiguration inline = RouteConfiguration.newBuilder().setName("inbound|8080||")
                .addVirtualHosts(EnvoyResources.virtualHost("inbound|http|8080", List.of("*"),
                        EnvoyResources.prefixRoute("/", INBOUND))).build();
        DownstreamTlsContext dtc = DownstreamTlsContext.newBuilder().setCommonTlsContext(istioCommon(false))
                .setRequireClientCertificate(com.google.protobuf.BoolValue.of(true)).build();
        return Listener.newBuilder().setName("virtualInbound").setAddress(EnvoyResources.address("127.0.0.1", port))
                .setTrafficDirection(TrafficDirection.INBOUND)
                .addAllListenerFilters(listenerFilters())
                .addFilterChains(FilterChain.newBuilder().setName("0.0.0.0_" + port + "_mtls")
                        .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port))
                                .setTransportProtocol("tls").addApplicationProtocols("istio-peer-exchange")
                                .addApplicationProtocols("istio"))
                        .setTransportSocket(TransportSocket.newBuilder().setName("envoy.transport_sockets.tls")
                                .setTypedConfig(Any.pack(dtc)))
                        .addFilters(peerMetadata())
                        .addFilters(hcm("inbound_0.0.0.0_8080", null, inline, TrafficDirection.INBOUND)))
                .addFilterChains(FilterChain.newBuilder().setName("0.0.0.0_" + port + "_plaintext")
                        .setFilterChainMatch(FilterChainMatch.newBuilder().setDestinationPort(UInt32Value.of(port))
                                .setTransportProtocol("raw_buffer"))
                        .addFilters(hcm("inbound_0.0.0.0_8080", null, inline, TrafficDirection.INBOUND)))
                .addFilterChains(FilterChain.newBuilder().setName("InboundPassthroughFilterChain")
                        .setFilterChainMatch(FilterChainMatch.newBuilder().addPrefixRanges(cidr("0.0.0.0", 0)))
                        .addFilters(tcpProxy("InboundPassthroughClusterIpv4", "InboundPassthroughClusterIpv4")))
                .build();
    }

    static RouteConfiguration routes9080() {
        return RouteConfiguration.newBuilder().setName("9080")
                .addVirtualHosts(EnvoyResources.virtualHost("echo.prod.svc.cluster.local:9080",
                        List.of("echo.prod.svc.cluster.local", "echo.prod.svc.cluster.local:9080", "echo", "echo:9080"),
                        EnvoyResources.prefixRoute("/", ECHO)))
                .addVirtualHosts(EnvoyResources.virtualHost("allow_any", List.of("*"),
                        EnvoyResources.prefixRoute("/", "PassthroughCluster")))
                .build();
    }

    static List<Message> all(int outPort, int inPort, int appPort, int boltPort, Secret cert, Secret ca) {
        return List.of(cert, ca, passthrough(), inboundPassthrough(), blackHole(),
                outbound(ECHO, "outbound_.9080_._.echo.prod.svc.cluster.local"),
                outbound(HELLO, "outbound_.12200_._.hello.prod.svc.cluster.local"), inbound(appPort),
                endpoints(ECHO, inPort, true), endpoints(HELLO, boltPort, false),
                virtualOutbound(outPort), outboundHttp("127.0.0.2", outPort), virtualInbound(inPort), routes9080());
    }
}
