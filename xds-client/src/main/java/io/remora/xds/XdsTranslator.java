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
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
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
    private final TlsTranslator tlsTranslator;

    /** @param warn receives each distinct warning (the caller logs it once) */
    XdsTranslator(Consumer<String> warn) {
        this.warn = warn;
        this.tlsTranslator = new TlsTranslator(warn);
    }

    // ---------------------------------------------------------------- LDS

    static final String TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy";
    /** Listener filters whose work the core's chain selection does by itself. */
    static final Set<String> LISTENER_FILTERS = Set.of("envoy.filters.listener.original_dst",
            "envoy.filters.listener.tls_inspector", "envoy.filters.listener.http_inspector");
    /** Network filters Istio adds for telemetry and peer metadata: ignored, one warning each. */
    static final Set<String> IGNORED_NETWORK_FILTERS = Set.of("istio.metadata_exchange", "istio.stats",
            "envoy.filters.network.metadata_exchange");

    /** One translated filter chain. */
    private record ChainOut(SidecarConfig.FilterChain chain, SidecarConfig.Listener native_, String rds,
                            Set<String> inline, JsonNode governance) {
    }

    XListener listener(Listener l) throws ConfigException {
        String p = "listener \"" + l.getName() + "\"";
        if (l.getName().isEmpty()) {
            throw new ConfigException("listener", "has no name");
        }
        for (var lf : l.getListenerFiltersList()) {
            if (!LISTENER_FILTERS.contains(lf.getName())) {
                warn.accept(p + ": listener filter \"" + lf.getName() + "\" is not supported; ignored");
            }
        }
        boolean useOriginalDst = l.hasUseOriginalDst() && l.getUseOriginalDst().getValue();
        Boolean bind = l.hasBindToPort() ? l.getBindToPort().getValue() : null;
        List<ChainOut> chains = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < l.getFilterChainsCount(); i++) {
            FilterChain fc = l.getFilterChains(i);
            String name = fc.getName().isEmpty() ? "chain-" + i : fc.getName();
            if (!names.add(name)) {
                name = name + "-" + i;
                names.add(name);
            }
            ChainOut c = chain(l, fc, name, p + ".filter_chains[" + name + "]", true);
            if (c != null) {
                chains.add(c);
            }
        }
        ChainOut fallback = l.hasDefaultFilterChain() ? chain(l, l.getDefaultFilterChain(), "default",
                p + ".default_filter_chain", false) : null;
        ObjectNode governance = null;
        for (ChainOut c : chains) {
            if (c.governance() != null) {
                governance = ConfigAssembler.merge(governance, c.governance());
            }
        }
        if (fallback != null && fallback.governance() != null) {
            governance = ConfigAssembler.merge(governance, fallback.governance());
        }
        if (chains.isEmpty() && fallback == null) {
            if (governance == null) {
                warn.accept(p + ": no " + XdsResources.RPC_PROXY + ", HTTP connection manager or tcp_proxy filter; "
                        + "listener skipped");
            }
            return new XListener(l.getName(), null, null, Set.of(), governance);
        }
        String address = address(l.getAddress(), p + ".address");
        boolean simple = chains.size() == 1 && fallback == null && chains.get(0).chain().match() == null
                && chains.get(0).chain().tls() == null && !useOriginalDst && bind == null;
        if (simple) {
            // One chain and nothing to choose: the single-chain form, exactly what it was before filter chains.
            ChainOut c = chains.get(0);
            SidecarConfig.Listener n = c.native_();
            SidecarConfig.Listener out = new SidecarConfig.Listener(l.getName(), address, n.protocol(),
                    n.direction(), n.routeConfig(), n.routes(), n.filters(), n.maxFrameBytes(), n.idleTimeoutMs(),
                    n.options(), n.transparent());
            return new XListener(l.getName(), out, c.rds(), Set.copyOf(c.inline()), governance);
        }
        String direction = l.getTrafficDirection() == TrafficDirection.INBOUND ? "inbound"
                : l.getTrafficDirection() == TrafficDirection.OUTBOUND ? "outbound"
                : chains.isEmpty() ? fallback.native_().direction() : chains.get(0).native_().direction();
        Set<String> rds = new LinkedHashSet<>();
        Set<String> inline = new LinkedHashSet<>();
        Set<String> secrets = new LinkedHashSet<>();
        List<SidecarConfig.FilterChain> out = new ArrayList<>();
        for (ChainOut c : chains) {
            out.add(c.chain());
        }
        List<ChainOut> all = new ArrayList<>(chains);
        if (fallback != null) {
            all.add(fallback);
        }
        for (ChainOut c : all) {
            if (c.rds() != null) {
                rds.add(c.rds());
            }
            inline.addAll(c.inline());
            secrets.addAll(TlsTranslator.secretNames(c.chain().tls()));
        }
        SidecarConfig.Listener listener = new SidecarConfig.Listener(l.getName(), address, null, direction, null,
                null, null, null, null, null, null, out.isEmpty() ? null : out,
                fallback == null ? null : fallback.chain(), useOriginalDst ? true : null, bind, null, null);
        return new XListener(l.getName(), listener, rds.isEmpty() ? null : rds.iterator().next(), Set.copyOf(inline),
                governance, Set.copyOf(rds), Set.copyOf(secrets));
    }

    /**
     * One Envoy filter chain: its match, its TLS and what its network filters make of it (the Remora RPC proxy, an
     * HTTP connection manager or a tcp_proxy). Null (with a warning) when it has none of them, or matches on what
     * the core cannot see (source address or port), where serving it anyway would be too broad.
     */
    private ChainOut chain(Listener l, FilterChain fc, String name, String p, boolean withMatch)
            throws ConfigException {
        SidecarConfig.FilterChainMatch match = withMatch && fc.hasFilterChainMatch()
                ? chainMatch(fc.getFilterChainMatch(), p + ".filter_chain_match") : null;
        if (withMatch && fc.hasFilterChainMatch() && match == NO_MATCH) {
            return null;
        }
        SidecarConfig.Tls tls = fc.hasTransportSocket() ? tlsTranslator.downstream(fc.getTransportSocket(),
                p + ".transport_socket") : null;
        ObjectNode proxy = null;
        JsonNode governance = null;
        Filter hcm = null;
        Filter tcp = null;
        for (Filter f : fc.getFiltersList()) {
            if (IGNORED_NETWORK_FILTERS.contains(f.getName())) {
                warn.accept("network filter \"" + f.getName() + "\" (Istio telemetry / peer metadata) is not run by "
                        + "Remora; ignored on every listener");
                continue;
            }
            if (!f.hasTypedConfig()) {
                warn.accept(p + ": filter \"" + f.getName() + "\" has no typed_config; ignored");
                continue;
            }
            Typed t = typed(f.getTypedConfig(), p + ".filters[" + f.getName() + "]");
            String type = t.type();
            Struct value = t.value();
            if (type.equals(XdsResources.RPC_PROXY) && value != null) {
                if (proxy != null) {
                    throw new ConfigException(p, "has two " + XdsResources.RPC_PROXY + " filters");
                }
                proxy = StructJson.toJson(value);
            } else if (type.equals(XdsResources.GOVERNANCE) && value != null) {
                governance = StructJson.toJson(value);
            } else if (type.equals(HCM)) {
                if (hcm != null) {
                    throw new ConfigException(p, "has two HTTP connection managers");
                }
                hcm = f;
            } else if (type.equals(TCP_PROXY)) {
                tcp = f;
            } else {
                warn.accept(p + ": unsupported network filter \"" + f.getName() + "\" (" + type + "); ignored");
            }
        }
        int terminal = (proxy != null ? 1 : 0) + (hcm != null ? 1 : 0) + (tcp != null ? 1 : 0);
        if (terminal > 1) {
            throw new ConfigException(p, "has more than one of " + XdsResources.RPC_PROXY + ", an HTTP connection "
                    + "manager and a tcp_proxy");
        }
        SidecarConfig.Listener n;
        String rds;
        Set<String> inline = new LinkedHashSet<>();
        if (hcm != null) {
            XListener x = new HttpListeners(this, warn).listener(l, hcm, governance, p);
            n = x.listener();
            rds = x.rds();
            inline.addAll(x.inlineClusters());
            governance = x.governance();
        } else if (tcp != null) {
            n = tcpProxy(l, tcp, p + ".tcp_proxy");
            rds = null;
            n.routes().forEach(r -> collectClusters(r, inline));
        } else if (proxy != null) {
            proxy.put("name", l.getName());
            proxy.put("address", "0.0.0.0:0"); // the listener's own address is set by the caller
            try {
                n = ConfigLoader.mapper().treeToValue(proxy, SidecarConfig.Listener.class);
            } catch (JsonProcessingException e) {
                throw new ConfigException(p + " " + XdsResources.RPC_PROXY, e.getOriginalMessage());
            }
            rds = n.routeConfig();
            if (n.routes() != null) {
                n.routes().forEach(r -> collectClusters(r, inline));
            }
        } else {
            if (governance == null) {
                warn.accept(p + ": no " + XdsResources.RPC_PROXY + ", HTTP connection manager or tcp_proxy filter; "
                        + "chain skipped");
            }
            return null;
        }
        SidecarConfig.FilterChain chain = new SidecarConfig.FilterChain(name, match, n.protocol(), n.routeConfig(),
                n.routes(), n.filters(), n.maxFrameBytes(), n.idleTimeoutMs(), n.options(), tls);
        return new ChainOut(chain, n, rds, inline, governance);
    }

    private static final SidecarConfig.FilterChainMatch NO_MATCH = new SidecarConfig.FilterChainMatch(-1, null, null,
            null, null);

    /** {@code filter_chain_match} to ours; {@link #NO_MATCH} (chain skipped, warned) for criteria we cannot see. */
    private SidecarConfig.FilterChainMatch chainMatch(io.envoyproxy.envoy.config.listener.v3.FilterChainMatch m,
                                                      String p) {
        if (m.getSourcePrefixRangesCount() > 0 || m.getSourcePortsCount() > 0
                || m.getDirectSourcePrefixRangesCount() > 0
                || m.getSourceType() != io.envoyproxy.envoy.config.listener.v3.FilterChainMatch
                .ConnectionSourceType.ANY || !m.getAddressSuffix().isEmpty() || m.hasSuffixLen()) {
            warn.accept(p + ": matches on the source (source_prefix_ranges, source_ports, source_type, "
                    + "direct_source_prefix_ranges) or address_suffix, which are not supported; chain skipped");
            return NO_MATCH;
        }
        List<String> ranges = null;
        if (m.getPrefixRangesCount() > 0) {
            ranges = new ArrayList<>();
            for (var r : m.getPrefixRangesList()) {
                String a = r.getAddressPrefix();
                int len = r.hasPrefixLen() ? r.getPrefixLen().getValue() : (a.contains(":") ? 128 : 32);
                ranges.add(a + "/" + len);
            }
        }
        boolean empty = !m.hasDestinationPort() && ranges == null && m.getServerNamesCount() == 0
                && m.getTransportProtocol().isEmpty() && m.getApplicationProtocolsCount() == 0;
        if (empty) {
            return null;
        }
        return new SidecarConfig.FilterChainMatch(m.hasDestinationPort() ? m.getDestinationPort().getValue() : null,
                ranges, m.getServerNamesCount() == 0 ? null : List.copyOf(m.getServerNamesList()),
                m.getTransportProtocol().isEmpty() ? null : m.getTransportProtocol(),
                m.getApplicationProtocolsCount() == 0 ? null : List.copyOf(m.getApplicationProtocolsList()));
    }

    /**
     * Envoy's tcp_proxy to a {@code tcp} chain: {@code cluster} or {@code weighted_clusters} as a catch-all route,
     * {@code idle_timeout} (Envoy's default: 1 hour; 0 = never) as the chain's idle timeout.
     */
    private SidecarConfig.Listener tcpProxy(Listener l, Filter f, String p) throws ConfigException {
        io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy t;
        try {
            t = f.getTypedConfig().unpack(io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.class);
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(p, "bad TcpProxy: " + e.getMessage());
        }
        SidecarConfig.Route route;
        switch (t.getClusterSpecifierCase()) {
            case CLUSTER -> route = new SidecarConfig.Route(t.getStatPrefix().isEmpty() ? null : t.getStatPrefix(),
                    null, t.getCluster(), null, null);
            case WEIGHTED_CLUSTERS -> {
                List<SidecarConfig.WeightedCluster> w = new ArrayList<>();
                for (var c : t.getWeightedClusters().getClustersList()) {
                    w.add(new SidecarConfig.WeightedCluster(c.getName(), c.getWeight()));
                }
                route = new SidecarConfig.Route(t.getStatPrefix().isEmpty() ? null : t.getStatPrefix(), null, null,
                        w, null);
            }
            default -> throw new ConfigException(p, "needs cluster or weighted_clusters");
        }
        if (t.hasTunnelingConfig()) {
            throw new ConfigException(p + ".tunneling_config", "is not supported");
        }
        long idle = t.hasIdleTimeout() ? millis(t.getIdleTimeout()) : 3_600_000L;
        return new SidecarConfig.Listener(l.getName(), "0.0.0.0:0", "tcp",
                l.getTrafficDirection() == TrafficDirection.INBOUND ? "inbound" : "outbound", null, List.of(route),
                null, null, idle, null);
    }

    /** A typed_config with any TypedStruct envelope removed; {@code value} is null when there was none. */
    record Typed(String type, Struct value) {
    }

    static Typed typed(Any any, String p) throws ConfigException {
        String type = any.getTypeUrl();
        try {
            if (type.equals(XdsResources.UDPA_TYPED_STRUCT)) {
                var ts = any.unpack(com.github.udpa.udpa.type.v1.TypedStruct.class);
                return new Typed(ts.getTypeUrl(), ts.getValue());
            }
            if (type.equals(XdsResources.XDS_TYPED_STRUCT)) {
                var ts = any.unpack(com.github.xds.type.v3.TypedStruct.class);
                return new Typed(ts.getTypeUrl(), ts.getValue());
            }
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(p, "bad TypedStruct: " + e.getMessage());
        }
        return new Typed(type, null);
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
        return routes(rc, p);
    }

    /**
     * Every (virtual host, domain) pair becomes a run of routes, ordered like Envoy picks virtual hosts: exact domains,
     * then {@code *.suffix} (longest first), then {@code prefix.*} (longest first), then {@code *}; ties keep their
     * order. An exact domain becomes {@code match.service} (port dropped: the core's service is the host without
     * port); a wildcard domain becomes a case-insensitive regex header match on {@code :authority}.
     */
    XRoute routes(RouteConfiguration rc, String p) throws ConfigException {
        record Run(int rank, int length, int order, String domain, VirtualHost vh) {
        }
        List<Run> runs = new ArrayList<>();
        for (VirtualHost vh : rc.getVirtualHostsList()) {
            Set<String> seen = new LinkedHashSet<>();
            List<String> domains = vh.getDomainsList().isEmpty() ? List.of("*") : vh.getDomainsList();
            for (String d : domains) {
                String dom = d.equals("*") || d.startsWith("*") || d.endsWith("*") || d.startsWith("[")
                        ? d.toLowerCase(java.util.Locale.ROOT) : stripPort(d.toLowerCase(java.util.Locale.ROOT));
                if (!seen.add(dom)) {
                    continue;
                }
                int rank = dom.equals("*") ? 3 : dom.startsWith("*") ? 1 : dom.endsWith("*") ? 2 : 0;
                runs.add(new Run(rank, rank == 1 || rank == 2 ? -dom.length() : 0, runs.size(), dom, vh));
            }
        }
        runs.sort(java.util.Comparator.comparingInt(Run::rank).thenComparingInt(Run::length)
                .thenComparingInt(Run::order));
        List<SidecarConfig.Route> routes = new ArrayList<>();
        Set<String> clusters = new LinkedHashSet<>();
        for (Run run : runs) {
            VirtualHost vh = run.vh();
            for (int i = 0; i < vh.getRoutesCount(); i++) {
                Route r = vh.getRoutes(i);
                String rp = p + ".virtual_hosts[" + vh.getName() + "].routes[" + i + "]";
                SidecarConfig.Route out = route(r, rp, run.domain(), vh.hasRetryPolicy() ? vh.getRetryPolicy() : null);
                collectClusters(out, clusters);
                routes.add(out);
            }
        }
        return new XRoute(new SidecarConfig.RouteConfig(rc.getName(), routes), Set.copyOf(clusters));
    }

    private static String stripPort(String host) {
        int c = host.lastIndexOf(':');
        return c > 0 && host.indexOf(':') == c ? host.substring(0, c) : host;
    }

    /** {@code *.example.com} / {@code www.*} as a full-match, case-insensitive regex over {@code :authority}. */
    static String domainRegex(String domain) {
        String port = "(:[0-9]+)?";
        if (domain.startsWith("*")) {
            return "(?i).+" + java.util.regex.Pattern.quote(domain.substring(1)) + port;
        }
        return "(?i)" + java.util.regex.Pattern.quote(domain.substring(0, domain.length() - 1)) + ".+";
    }

    private SidecarConfig.Route route(Route r, String p, String domain, RetryPolicy vhRetry)
            throws ConfigException {
        String service = null;
        String method = null;
        List<SidecarConfig.HeaderMatch> headers = new ArrayList<>();
        io.envoyproxy.envoy.config.route.v3.RouteMatch rm = r.getMatch();
        for (HeaderMatcher h : rm.getHeadersList()) {
            if (h.getInvertMatch()) {
                throw new ConfigException(p + ".match.headers[" + h.getName() + "]", "invert_match is not supported");
            }
            String name = h.getName().equals(":service") || h.getName().equals(":method") ? h.getName().substring(1)
                    : h.getName();
            SidecarConfig.HeaderMatch m = headerMatch(name, h, p + ".match.headers[" + h.getName() + "]");
            if (name.equals("service") && m.exact() != null) {
                service = m.exact();
            } else if (name.equals("method") && m.exact() != null) {
                method = m.exact();
            } else {
                headers.add(m);
            }
        }
        if (rm.getQueryParametersCount() > 0) {
            throw new ConfigException(p + ".match.query_parameters", "query parameter matching is not supported");
        }
        if (rm.hasRuntimeFraction() || rm.hasGrpc() || rm.hasTlsContext() || rm.getDynamicMetadataCount() > 0) {
            throw new ConfigException(p + ".match", "only path, prefix, safe_regex and headers are supported");
        }
        boolean ci = rm.hasCaseSensitive() && !rm.getCaseSensitive().getValue();
        String path = null;
        String prefix = null;
        String pathRegex = null;
        switch (rm.getPathSpecifierCase()) {
            case PREFIX -> {
                String x = rm.getPrefix();
                if (ci) {
                    pathRegex = "(?i)" + java.util.regex.Pattern.quote(x) + ".*";
                } else if (!x.isEmpty() && !x.equals("/")) { // "" and "/" match everything (RPC has no path)
                    prefix = x;
                }
            }
            case PATH -> {
                if (ci) {
                    pathRegex = "(?i)" + java.util.regex.Pattern.quote(rm.getPath());
                } else {
                    path = rm.getPath();
                }
            }
            case SAFE_REGEX -> pathRegex = (ci ? "(?i)" : "") + rm.getSafeRegex().getRegex();
            case PATHSPECIFIER_NOT_SET -> {
            }
            default -> throw new ConfigException(p + ".match", "path match " + rm.getPathSpecifierCase()
                    + " is not supported (prefix, path, safe_regex)");
        }
        if (ci && rm.getPathSpecifierCase() == io.envoyproxy.envoy.config.route.v3.RouteMatch.PathSpecifierCase.PREFIX
                && (rm.getPrefix().isEmpty() || rm.getPrefix().equals("/"))) {
            pathRegex = null;
        }
        if (!domain.equals("*")) {
            if (domain.startsWith("*") || domain.endsWith("*")) {
                headers.add(new SidecarConfig.HeaderMatch(":authority", null, domainRegex(domain), null));
            } else if (service == null) {
                service = domain;
            }
        }
        if (r.getActionCase() != Route.ActionCase.ROUTE) {
            throw new ConfigException(p, "only a route action is supported, was " + r.getActionCase());
        }
        RouteAction a = r.getRoute();
        if (!a.getPrefixRewrite().isEmpty() || a.hasRegexRewrite() || a.getHostRewriteSpecifierCase()
                != RouteAction.HostRewriteSpecifierCase.HOSTREWRITESPECIFIER_NOT_SET) {
            throw new ConfigException(p + ".route", "path and host rewrites are not supported");
        }
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
        SidecarConfig.RetryPolicy retry = retry(a.hasRetryPolicy() ? a.getRetryPolicy() : vhRetry, p + ".route"
                + ".retry_policy");
        SidecarConfig.RouteMatch match = new SidecarConfig.RouteMatch(service == null ? "*" : service, method,
                headers.isEmpty() ? null : headers, path, prefix, pathRegex);
        return new SidecarConfig.Route(r.getName().isEmpty() ? null : r.getName(), match, cluster, weighted, timeout,
                retry);
    }

    /**
     * Envoy {@code retry_on} to ours: connect-failure → connect_failure; reset, refused-stream → reset; 5xx,
     * gateway-error, retriable-status-codes → retriable_status (5xx with a per_try_timeout also → timeout). Anything
     * else is dropped with a warning. Envoy retries regardless of idempotency, so a policy that asks for more than
     * connect failures is marked idempotent.
     */
    private SidecarConfig.RetryPolicy retry(RetryPolicy rp, String p) {
        if (rp == null) {
            return null;
        }
        Set<String> on = new LinkedHashSet<>();
        boolean perTry = rp.hasPerTryTimeout();
        for (String s : rp.getRetryOn().split(",")) {
            switch (s.trim()) {
                case "connect-failure" -> on.add("connect_failure");
                case "reset", "refused-stream" -> on.add("reset");
                case "5xx", "gateway-error", "retriable-status-codes" -> {
                    on.add("retriable_status");
                    if (perTry && !s.trim().equals("retriable-status-codes")) {
                        on.add("timeout");
                    }
                }
                case "" -> {
                }
                default -> warn.accept(p + ": retry_on \"" + s.trim() + "\" is not supported; dropped");
            }
        }
        if (on.isEmpty()) {
            return null;
        }
        int n = rp.hasNumRetries() ? rp.getNumRetries().getValue() : 1;
        boolean idempotent = !on.equals(Set.of("connect_failure"));
        Long base = rp.getRetryBackOff().hasBaseInterval() ? millis(rp.getRetryBackOff().getBaseInterval()) : null;
        Long max = rp.getRetryBackOff().hasMaxInterval() ? millis(rp.getRetryBackOff().getMaxInterval()) : null;
        return new SidecarConfig.RetryPolicy(n, new ArrayList<>(on), idempotent ? true : null,
                perTry ? millis(rp.getPerTryTimeout()) : null, base, max);
    }

    static SidecarConfig.HeaderMatch headerMatch(String name, HeaderMatcher h, String p)
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

    static void collectClusters(SidecarConfig.Route r, Set<String> into) {
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
        if (c.getClusterDiscoveryTypeCase() == Cluster.ClusterDiscoveryTypeCase.CLUSTER_TYPE) {
            // Skipped, not NACKed: one exotic cluster must not block a whole Istio push (a listener that routes to
            // it is NACKed by the assembler instead).
            return skip(c.getName(), "custom cluster type " + c.getClusterType().getName() + " is not supported");
        }
        boolean originalDst = c.getType() == Cluster.DiscoveryType.ORIGINAL_DST;
        switch (c.getType()) {
            case EDS, STATIC, STRICT_DNS, LOGICAL_DNS, ORIGINAL_DST -> {
            }
            default -> {
                return skip(c.getName(), "type " + c.getType() + " is not supported (EDS, STATIC, STRICT_DNS, "
                        + "LOGICAL_DNS, ORIGINAL_DST)");
            }
        }
        SidecarConfig.Tls tls = tlsTranslator.upstream(c, p);
        Map<String, String> meta = strings(c.getMetadata(), "remora");
        String lb = switch (c.getLbPolicy()) {
            case ROUND_ROBIN -> "round_robin";
            case RANDOM -> "random";
            case LEAST_REQUEST -> "least_request";
            case CLUSTER_PROVIDED -> {
                if (!originalDst) {
                    warn.accept(p + ": lb_policy CLUSTER_PROVIDED on a " + c.getType() + " cluster; using round_robin");
                }
                yield "round_robin"; // original_dst: the destination is the host, there is nothing to balance
            }
            default -> {
                warn.accept(p + ": lb_policy " + c.getLbPolicy() + " is not supported yet; using round_robin");
                yield "round_robin";
            }
        };
        boolean weightsFromEndpoints = !meta.containsKey("lb_policy") && !lb.equals("least_request");
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
        switch (c.getType()) {
            case EDS -> edsName = c.getEdsClusterConfig().getServiceName().isEmpty() ? c.getName()
                    : c.getEdsClusterConfig().getServiceName();
            case ORIGINAL_DST -> {
                if (c.hasUpstreamBindConfig()) {
                    // Istio's InboundPassthroughCluster binds 127.0.0.6 so the app sees a local peer; we connect
                    // from the default source address, which the app sees as a local peer too.
                    warn.accept(p + ": upstream_bind_config is not supported; connecting from the default address");
                }
            }
            default -> hosts = endpoints(c.getLoadAssignment(), p + ".load_assignment").hosts();
        }
        OutlierSpec outlier = null;
        if (c.hasOutlierDetection()) {
            if (originalDst) {
                warn.accept(p + ": outlier_detection on an ORIGINAL_DST cluster is not supported; ignored");
            } else {
                outlier = outlier(c.getOutlierDetection(), p + ".outlier_detection");
            }
        }
        String policy = weightsFromEndpoints ? ConfigAssembler.policy(lb, hosts) : lb;
        SidecarConfig.Cluster out = new SidecarConfig.Cluster(c.getName(), meta.get("protocol"), policy, connect,
                maxPending, heartbeat, maxFrame, originalDst ? null : hosts, null,
                outlier == null ? null : outlier.config(), null, originalDst ? "original_dst" : null, tls);
        return new XCluster(out, edsName, weightsFromEndpoints, outlier == null ? 0 : outlier.maxEjectionPercent(),
                null, Set.copyOf(TlsTranslator.secretNames(tls)));
    }

    private XCluster skip(String name, String reason) {
        warn.accept("cluster \"" + name + "\": " + reason + "; cluster skipped");
        return XCluster.skipped(name, reason);
    }

    /** Envoy outlier detection mapped onto the core's error-ratio isolation, and Envoy's max_ejection_percent. */
    record OutlierSpec(SidecarConfig.OutlierDetection config, int maxEjectionPercent) {
    }

    /**
     * Envoy's outlier detection onto the core's (an error ratio over a window): {@code interval} → window,
     * {@code base_ejection_time}/{@code max_ejection_time} → isolation times, {@code max_ejection_percent} → the cap on
     * isolated hosts (resolved against the endpoint count by the assembler; at least one, as Envoy). The failure
     * percentage detector maps exactly when enforced; {@code consecutive_5xx} / {@code consecutive_gateway_failure}
     * (Istio's {@code consecutiveErrors}) have no exact equivalent: N consecutive failures become "at least N calls,
     * more than half failed" (one warning). Success-rate ejection is dropped with a warning.
     */
    private OutlierSpec outlier(io.envoyproxy.envoy.config.cluster.v3.OutlierDetection o, String p) {
        int window = o.hasInterval() ? (int) Math.max(1, Math.min(60, millis(o.getInterval()) / 1000)) : 10;
        Long base = o.hasBaseEjectionTime() ? Math.max(1, millis(o.getBaseEjectionTime())) : null;
        Long max = o.hasMaxEjectionTime() ? Math.max(1, millis(o.getMaxEjectionTime())) : null;
        if (base != null && max != null && max < base) {
            max = base;
        }
        int maxPercent = o.hasMaxEjectionPercent() ? Math.min(100, o.getMaxEjectionPercent().getValue()) : 10;
        Integer minRequests = null;
        Double ratio = null;
        boolean failurePercentage = o.hasEnforcingFailurePercentage()
                && o.getEnforcingFailurePercentage().getValue() > 0;
        if (failurePercentage) {
            ratio = (double) (o.hasFailurePercentageThreshold() ? o.getFailurePercentageThreshold().getValue() : 85);
            minRequests = o.hasFailurePercentageRequestVolume() ? o.getFailurePercentageRequestVolume().getValue() : 50;
        } else {
            boolean c5xx = !o.hasEnforcingConsecutive5Xx() || o.getEnforcingConsecutive5Xx().getValue() > 0;
            int n = o.hasConsecutive5Xx() ? o.getConsecutive5Xx().getValue() : 5;
            if (o.hasConsecutiveGatewayFailure() && o.hasEnforcingConsecutiveGatewayFailure()
                    && o.getEnforcingConsecutiveGatewayFailure().getValue() > 0) {
                n = Math.min(n, o.getConsecutiveGatewayFailure().getValue());
                c5xx = true;
            }
            if (!c5xx || n <= 0) {
                warn.accept(p + ": no enforced detector the core can map (consecutive_5xx, "
                        + "consecutive_gateway_failure, failure_percentage); outlier detection off");
                return null;
            }
            warn.accept(p + ": consecutive errors are approximated as an error ratio above 50% over at least " + n
                    + " calls in " + window + " s");
            minRequests = n;
            ratio = 50.0;
        }
        if (o.hasEnforcingSuccessRate() && o.getEnforcingSuccessRate().getValue() > 0) {
            warn.accept(p + ": success-rate ejection is not supported; dropped");
        }
        return new OutlierSpec(new SidecarConfig.OutlierDetection(window, minRequests, ratio, null, null, base, max,
                null), maxPercent);
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
                labels.putAll(strings(e.getMetadata(), "envoy.transport_socket_match")); // Istio's tlsMode
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
        return strings(s);
    }

    /** String (and scalar) fields of {@code s}; nested values are skipped. */
    static Map<String, String> strings(Struct s) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
            JsonNode v = StructJson.toJson(e.getValue());
            if (v.isValueNode() && !v.isNull()) {
                out.put(e.getKey(), v.asText());
            }
        }
        return out;
    }

    static long millis(Duration d) {
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
