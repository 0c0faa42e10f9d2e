package io.remora.testkit.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.AggregatedConfigSource;
import io.envoyproxy.envoy.config.core.v3.ConfigSource;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.Endpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.Rds;
import java.util.Map;

/** Builders for the Envoy v3 resources a Remora sidecar understands (see xds-client/README.md for the mapping). */
public final class EnvoyResources {

    public static final String RPC_PROXY = "type.googleapis.com/remora.rpc_proxy";
    public static final String GOVERNANCE = "type.googleapis.com/remora.governance";

    private EnvoyResources() {
    }

    public static Struct struct(String json) {
        Struct.Builder b = Struct.newBuilder();
        try {
            JsonFormat.parser().merge(json, b);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(e);
        }
        return b.build();
    }

    /** A network filter whose typed_config is an {@code xds.type.v3.TypedStruct} carrying {@code valueJson}. */
    public static Filter typedStructFilter(String name, String typeUrl, String valueJson) {
        return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(com.github.xds.type.v3.TypedStruct
                .newBuilder().setTypeUrl(typeUrl).setValue(struct(valueJson)).build())).build();
    }

    /** The same in the older {@code udpa.type.v1.TypedStruct} envelope. */
    public static Filter udpaTypedStructFilter(String name, String typeUrl, String valueJson) {
        return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(com.github.udpa.udpa.type.v1.TypedStruct
                .newBuilder().setTypeUrl(typeUrl).setValue(struct(valueJson)).build())).build();
    }

    public static Address address(String host, int port) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder().setAddress(host).setPortValue(port))
                .build();
    }

    /** An RPC listener: {@code rpcProxyJson} is the native listener JSON (protocol, direction, route_config...). */
    public static Listener rpcListener(String name, String host, int port, String rpcProxyJson, Filter... more) {
        FilterChain.Builder chain = FilterChain.newBuilder();
        for (Filter f : more) {
            chain.addFilters(f);
        }
        chain.addFilters(typedStructFilter("remora.rpc_proxy", RPC_PROXY, rpcProxyJson));
        return Listener.newBuilder().setName(name).setAddress(address(host, port)).addFilterChains(chain).build();
    }

    /** One route: header "service" exact, optional "method", to {@code cluster}. */
    public static Route route(String service, String method, String cluster, long timeoutMs) {
        RouteMatch.Builder m = RouteMatch.newBuilder().setPrefix("");
        m.addHeaders(header("service", service));
        if (method != null) {
            m.addHeaders(header("method", method));
        }
        RouteAction.Builder a = RouteAction.newBuilder().setCluster(cluster);
        if (timeoutMs > 0) {
            a.setTimeout(Durations.fromMillis(timeoutMs));
        }
        return Route.newBuilder().setName(service + (method == null ? "" : "/" + method)).setMatch(m).setRoute(a)
                .build();
    }

    public static HeaderMatcher header(String name, String exact) {
        return HeaderMatcher.newBuilder().setName(name).setStringMatch(StringMatcher.newBuilder().setExact(exact))
                .build();
    }

    public static RouteConfiguration routeConfig(String name, Route... routes) {
        VirtualHost.Builder vh = VirtualHost.newBuilder().setName("rpc").addDomains("*");
        for (Route r : routes) {
            vh.addRoutes(r);
        }
        return RouteConfiguration.newBuilder().setName(name).addVirtualHosts(vh).build();
    }

    /** An EDS cluster over ADS; {@code protocol} goes to filter_metadata["remora"].protocol when not null. */
    public static Cluster edsCluster(String name, String protocol) {
        Cluster.Builder c = Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS)
                .setConnectTimeout(Durations.fromMillis(1500))
                .setEdsClusterConfig(Cluster.EdsClusterConfig.newBuilder().setEdsConfig(ConfigSource.newBuilder()
                        .setAds(AggregatedConfigSource.getDefaultInstance())))
                .setLbPolicy(Cluster.LbPolicy.ROUND_ROBIN);
        if (protocol != null) {
            c.setMetadata(Metadata.newBuilder().putFilterMetadata("remora",
                    struct("{\"protocol\":\"" + protocol + "\"}")));
        }
        return c.build();
    }

    public static final String ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

    /** An HTTP filter whose typed_config is an empty message of {@code typeUrl}. */
    public static HttpFilter httpFilter(String name, String typeUrl, boolean optional) {
        return HttpFilter.newBuilder().setName(name).setIsOptional(optional)
                .setTypedConfig(Any.newBuilder().setTypeUrl(typeUrl)).build();
    }

    /** An HTTP connection manager listener (AUTO codec) on RDS {@code rds}; the router filter goes last. */
    public static Listener httpListener(String name, String host, int port, String rds, HttpFilter... filters) {
        HttpConnectionManager.Builder hcm = HttpConnectionManager.newBuilder().setStatPrefix(name)
                .setRds(Rds.newBuilder().setRouteConfigName(rds).setConfigSource(ConfigSource.newBuilder()
                        .setAds(AggregatedConfigSource.getDefaultInstance())));
        for (HttpFilter f : filters) {
            hcm.addHttpFilters(f);
        }
        hcm.addHttpFilters(httpFilter("envoy.filters.http.router", ROUTER, false));
        return Listener.newBuilder().setName(name).setAddress(address(host, port))
                .addFilterChains(FilterChain.newBuilder().addFilters(Filter.newBuilder()
                        .setName("envoy.filters.network.http_connection_manager").setTypedConfig(Any.pack(hcm.build()))))
                .build();
    }

    /** An HTTP route: path {@code prefix} to {@code cluster}. */
    public static Route prefixRoute(String prefix, String cluster) {
        return Route.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix(prefix))
                .setRoute(RouteAction.newBuilder().setCluster(cluster)).build();
    }

    public static VirtualHost virtualHost(String name, java.util.List<String> domains, Route... routes) {
        return VirtualHost.newBuilder().setName(name).addAllDomains(domains).addAllRoutes(java.util.List.of(routes))
                .build();
    }

    public static RouteConfiguration routeConfig(String name, VirtualHost... hosts) {
        return RouteConfiguration.newBuilder().setName(name).addAllVirtualHosts(java.util.List.of(hosts)).build();
    }

    public static LbEndpoint endpoint(String host, int port, int weight, Map<String, String> labels,
                                      HealthStatus health) {
        LbEndpoint.Builder e = LbEndpoint.newBuilder()
                .setEndpoint(Endpoint.newBuilder().setAddress(address(host, port)))
                .setLoadBalancingWeight(UInt32Value.of(weight)).setHealthStatus(health);
        if (!labels.isEmpty()) {
            Struct.Builder s = Struct.newBuilder();
            labels.forEach((k, v) -> s.putFields(k, com.google.protobuf.Value.newBuilder().setStringValue(v).build()));
            e.setMetadata(Metadata.newBuilder().putFilterMetadata("istio", s.build()));
        }
        return e.build();
    }

    public static ClusterLoadAssignment endpoints(String cluster, Iterable<LbEndpoint> endpoints) {
        return ClusterLoadAssignment.newBuilder().setClusterName(cluster)
                .addEndpoints(LocalityLbEndpoints.newBuilder().addAllLbEndpoints(endpoints)).build();
    }
}
