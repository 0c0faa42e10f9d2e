package io.remora.xds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XCluster;
import io.remora.xds.XdsResources.XEndpoints;
import io.remora.xds.XdsResources.XListener;
import io.remora.xds.XdsResources.XRoute;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Envoy v3 resources to the core's config model, one resource at a time. A resource we cannot honour throws
 * {@link ConfigException} (the caller NACKs); things we merely do not support yet are skipped with a warning.
 */
final class XdsTranslator {

    static final String HCM = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3"
            + ".HttpConnectionManager";

    private final Consumer<String> warn;

    /** @param warn receives each distinct warning (the caller logs it once) */
    XdsTranslator(Consumer<String> warn) {
        this.warn = warn;
    }

    // ---------------------------------------------------------------- LDS

    XListener listener(Listener l) throws ConfigException {
        String p = "listener \"" + l.getName() + "\"";
        if (l.getName().isEmpty()) {
            throw new ConfigException("listener", "has no name");
        }
        List<FilterChain> chains = new ArrayList<>(l.getFilterChainsList());
        if (l.hasDefaultFilterChain()) {
            chains.add(l.getDefaultFilterChain());
        }
        if (chains.size() > 1) {
            warn.accept(p + ": " + chains.size() + " filter chains; only the first is used (no filter chain match)");
        }
        ObjectNode proxy = null;
        JsonNode governance = null;
        boolean http = false;
        for (Filter f : chains.isEmpty() ? List.<Filter>of() : chains.get(0).getFiltersList()) {
            if (!f.hasTypedConfig()) {
                warn.accept(p + ": filter \"" + f.getName() + "\" has no typed_config; ignored");
                continue;
            }
            Any any = f.getTypedConfig();
            String type = any.getTypeUrl();
            Struct value = null;
            if (type.equals(XdsResources.UDPA_TYPED_STRUCT) || type.equals(XdsResources.XDS_TYPED_STRUCT)) {
                try {
                    if (type.equals(XdsResources.UDPA_TYPED_STRUCT)) {
                        var ts = any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
                        type = ts.getTypeUrl();
                        value = ts.getValue();
                    } else {
                        var ts = any.unpack(com.github.xds.type.v3.TypedStruct.class);
                        type = ts.getTypeUrl();
                        value = ts.getValue();
                    }
                } catch (InvalidProtocolBufferException e) {
                    throw new ConfigException(p + ".filters[" + f.getName() + "]", "bad TypedStruct: " + e.getMessage());
                }
            }
            if (type.equals(XdsResources.RPC_PROXY) && value != null) {
                if (proxy != null) {
                    throw new ConfigException(p, "has two " + XdsResources.RPC_PROXY + " filters");
                }
                proxy = StructJson.toJson(value);
            } else if (type.equals(XdsResources.GOVERNANCE) && value != null) {
                governance = StructJson.toJson(value);
            } else if (type.equals(HCM)) {
                http = true;
            } else {
                warn.accept(p + ": unsupported network filter \"" + f.getName() + "\" (" + type + "); ignored");
            }
        }
        if (proxy == null) {
            if (http) {
                warn.accept(p + ": HTTP connection manager listeners are not supported yet; listener skipped");
            } else if (governance == null) {
                warn.accept(p + ": no " + XdsResources.RPC_PROXY + " filter; listener skipped");
            }
            return new XListener(l.getName(), null, null, Set.of(), governance);
        }
        String address = address(l.getAddress(), p + ".address");
        proxy.put("name", l.getName());
        proxy.put("address", address);
        SidecarConfig.Listener native_;
        try {
            native_ = ConfigLoader.mapper().treeToValue(proxy, SidecarConfig.Listener.class);
        } catch (JsonProcessingException e) {
            throw new ConfigException(p + " " + XdsResources.RPC_PROXY, e.getOriginalMessage());
        }
        Set<String> inline = new LinkedHashSet<>();
        if (native_.routes() != null) {
            native_.routes().forEach(r -> collectClusters(r, inline));
        }
        return new XListener(l.getName(), native_, native_.routeConfig(), Set.copyOf(inline), governance);
    }

    static String address(Address a, String p) throws ConfigException {
        if (!a.hasSocketAddress()) {
            throw new ConfigException(p, "only socket_address is supported, was " + a.getAddressCase());
        }
        SocketAddress s = a.getSocketAddress();
        if (s.getAddress().isEmpty()) {
            throw new ConfigException(p, "socket_address.address is empty");
        }
        if (s.getPortSpecifierCase() == SocketAddress.PortSpecifierCase.NAMED_PORT) {
            throw new ConfigException(p, "named ports are not supported");
        }
        if (s.getProtocol() != SocketAddress.Protocol.TCP) {
            throw new ConfigException(p, "only TCP is supported, was " + s.getProtocol());
        }
        String host = s.getAddress().contains(":") ? "[" + s.getAddress() + "]" : s.getAddress();
        return host + ":" + s.getPortValue();
    }

    // ---------------------------------------------------------------- RDS

    XRoute route(RouteConfiguration rc) throws ConfigException {
        String p = "route_configuration \"" + rc.getName() + "\"";
        if (rc.getName().isEmpty()) {
            throw new ConfigException("route_configuration", "has no name");
        }
        List<SidecarConfig.Route> routes = new ArrayList<>();
        Set<String> clusters = new LinkedHashSet<>();
        for (VirtualHost vh : rc.getVirtualHostsList()) {
            for (int i = 0; i < vh.getRoutesCount(); i++) {
                Route r = vh.getRoutes(i);
                String rp = p + ".virtual_hosts[" + vh.getName() + "].routes[" + i + "]";
                SidecarConfig.Route out = route(r, rp);
                collectClusters(out, clusters);
                routes.add(out);
            }
        }
        return new XRoute(new SidecarConfig.RouteConfig(rc.getName(), routes), Set.copyOf(clusters));
    }

    private SidecarConfig.Route route(Route r, String p) throws ConfigException {
        String service = null;
        String method = null;
        List<SidecarConfig.HeaderMatch> headers = new ArrayList<>();
        for (HeaderMatcher h : r.getMatch().getHeadersList()) {
            if (h.getInvertMatch()) {
                throw new ConfigException(p + ".match.headers[" + h.getName() + "]", "invert_match is not supported");
            }
            String name = h.getName().startsWith(":") ? h.getName().substring(1) : h.getName();
            SidecarConfig.HeaderMatch m = headerMatch(name, h, p + ".match.headers[" + h.getName() + "]");
            if (name.equals("service") && m.exact() != null) {
                service = m.exact();
            } else if (name.equals("method") && m.exact() != null) {
                method = m.exact();
            } else {
                headers.add(m);
            }
        }
        if (r.getActionCase() != Route.ActionCase.ROUTE) {
            throw new ConfigException(p, "only a route action is supported, was " + r.getActionCase());
        }
        RouteAction a = r.getRoute();
        String cluster = null;
        List<SidecarConfig.WeightedCluster> weighted = null;
        switch (a.getClusterSpecifierCase()) {
            case CLUSTER -> cluster = a.getCluster();
            case WEIGHTED_CLUSTERS -> {
                weighted = new ArrayList<>();
                for (WeightedCluster.ClusterWeight w : a.getWeightedClusters().getClustersList()) {
                    weighted.add(new SidecarConfig.WeightedCluster(w.getName(),
                            w.hasWeight() ? w.getWeight().getValue() : 1));
                }
            }
            default -> throw new ConfigException(p + ".route", "cluster specifier " + a.getClusterSpecifierCase()
                    + " is not supported (use cluster or weighted_clusters)");
        }
        Long timeout = a.hasTimeout() ? millis(a.getTimeout()) : null;
        SidecarConfig.RouteMatch match = new SidecarConfig.RouteMatch(service == null ? "*" : service, method,
                headers.isEmpty() ? null : headers);
        return new SidecarConfig.Route(r.getName().isEmpty() ? null : r.getName(), match, cluster, weighted, timeout);
    }

    private static SidecarConfig.HeaderMatch headerMatch(String name, HeaderMatcher h, String p)
            throws ConfigException {
        switch (h.getHeaderMatchSpecifierCase()) {
            case EXACT_MATCH:
                return new SidecarConfig.HeaderMatch(name, h.getExactMatch(), null, null);
            case SAFE_REGEX_MATCH:
                return new SidecarConfig.HeaderMatch(name, null, h.getSafeRegexMatch().getRegex(), null);
            case PRESENT_MATCH:
                return new SidecarConfig.HeaderMatch(name, null, null, h.getPresentMatch());
            case STRING_MATCH:
                StringMatcher s = h.getStringMatch();
                if (s.getIgnoreCase()) {
                    throw new ConfigException(p, "ignore_case is not supported");
                }
                return switch (s.getMatchPatternCase()) {
                    case EXACT -> new SidecarConfig.HeaderMatch(name, s.getExact(), null, null);
                    case SAFE_REGEX -> new SidecarConfig.HeaderMatch(name, null, s.getSafeRegex().getRegex(), null);
                    case PREFIX -> new SidecarConfig.HeaderMatch(name, null,
                            java.util.regex.Pattern.quote(s.getPrefix()) + ".*", null);
                    default -> throw new ConfigException(p, "string match " + s.getMatchPatternCase()
                            + " is not supported");
                };
            default:
                throw new ConfigException(p, "header match " + h.getHeaderMatchSpecifierCase() + " is not supported");
        }
    }

    private static void collectClusters(SidecarConfig.Route r, Set<String> into) {
        if (r.cluster() != null) {
            into.add(r.cluster());
        }
        if (r.weightedClusters() != null) {
            r.weightedClusters().forEach(w -> into.add(w.cluster()));
        }
    }

    // ---------------------------------------------------------------- CDS

    XCluster cluster(Cluster c) throws ConfigException {
        String p = "cluster \"" + c.getName() + "\"";
        if (c.getName().isEmpty()) {
            throw new ConfigException("cluster", "has no name");
        }
        Map<String, String> meta = strings(c.getMetadata(), "remora");
        String lb = switch (c.getLbPolicy()) {
            case ROUND_ROBIN -> "round_robin";
            case RANDOM -> "random";
            default -> {
                warn.accept(p + ": lb_policy " + c.getLbPolicy() + " is not supported yet; using round_robin");
                yield "round_robin";
            }
        };
        lb = meta.getOrDefault("lb_policy", lb);
        Long connect = c.hasConnectTimeout() ? millis(c.getConnectTimeout()) : null;
        Integer maxPending = null;
        for (CircuitBreakers.Thresholds t : c.getCircuitBreakers().getThresholdsList()) {
            if (t.getPriority() == RoutingPriority.DEFAULT && t.hasMaxPendingRequests()) {
                maxPending = t.getMaxPendingRequests().getValue();
            }
        }
        Long heartbeat = meta.containsKey("heartbeat_interval_ms")
                ? parseLong(meta.get("heartbeat_interval_ms"), p + ".metadata.remora.heartbeat_interval_ms") : null;
        Integer maxFrame = meta.containsKey("max_frame_bytes")
                ? (int) parseLong(meta.get("max_frame_bytes"), p + ".metadata.remora.max_frame_bytes") : null;
        String edsName = null;
        List<SidecarConfig.Host> hosts = null;
        if (c.getClusterDiscoveryTypeCase() == Cluster.ClusterDiscoveryTypeCase.CLUSTER_TYPE) {
            throw new ConfigException(p + ".cluster_type", "custom cluster types are not supported");
        }
        switch (c.getType()) {
            case EDS -> {
                edsName = c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName()
                        : c.getEdsClusterConfig().getServiceName();
            }
            case STATIC, STRICT_DNS, LOGICAL_DNS -> hosts = endpoints(c.getLoadAssignment(), p + ".load_assignment")
                    .hosts();
            default -> throw new ConfigException(p + ".type", c.getType() + " is not supported (EDS, STATIC, "
                    + "STRICT_DNS, LOGICAL_DNS)");
        }
        return new XCluster(new SidecarConfig.Cluster(c.getName(), meta.get("protocol"), lb, connect, maxPending,
                heartbeat, maxFrame, hosts), edsName);
    }

    // ---------------------------------------------------------------- EDS

    XEndpoints endpoints(ClusterLoadAssignment cla, String p) throws ConfigException {
        List<SidecarConfig.Host> hosts = new ArrayList<>();
        for (LocalityLbEndpoints loc : cla.getEndpointsList()) {
            for (LbEndpoint e : loc.getLbEndpointsList()) {
                if (e.getHealthStatus() == HealthStatus.UNHEALTHY || e.getHealthStatus() == HealthStatus.DRAINING
                        || e.getHealthStatus() == HealthStatus.TIMEOUT) {
                    continue;
                }
                if (!e.hasEndpoint()) {
                    throw new ConfigException(p, "endpoint_name references are not supported");
                }
                String address = address(e.getEndpoint().getAddress(), p + ".endpoint.address");
                Map<String, String> labels = new LinkedHashMap<>();
                if (!loc.getLocality().getRegion().isEmpty()) {
                    labels.put("region", loc.getLocality().getRegion());
                }
                if (!loc.getLocality().getZone().isEmpty()) {
                    labels.put("zone", loc.getLocality().getZone());
                }
                labels.putAll(strings(e.getMetadata(), "istio"));
                labels.putAll(strings(e.getMetadata(), "remora"));
                Integer weight = e.hasLoadBalancingWeight() ? e.getLoadBalancingWeight().getValue() : null;
                hosts.add(new SidecarConfig.Host(address, weight, labels.isEmpty() ? null : labels));
            }
        }
        return new XEndpoints(cla.getClusterName(), hosts);
    }

    XEndpoints endpoints(ClusterLoadAssignment cla) throws ConfigException {
        return endpoints(cla, "cluster_load_assignment \"" + cla.getClusterName() + "\"");
    }

    // ---------------------------------------------------------------- helpers

    /** String (and scalar) fields of {@code filter_metadata[ns]}; nested values are skipped. */
    static Map<String, String> strings(Metadata md, String ns) {
        Struct s = md.getFilterMetadataMap().get(ns);
        if (s == null) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
            JsonNode v = StructJson.toJson(e.getValue());
            if (v.isValueNode() && !v.isNull()) {
                out.put(e.getKey(), v.asText());
            }
        }
        return out;
    }

    private static long millis(Duration d) {
        return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
    }

    private static long parseLong(String s, String p) throws ConfigException {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new ConfigException(p, "\"" + s + "\" is not a number");
        }
    }
}
