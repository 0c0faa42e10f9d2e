package io.remora.xds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.FaultAbort;
import io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault;
import io.envoyproxy.envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.xds.XdsResources.XListener;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * An Envoy HTTP connection manager listener to a core HTTP listener: codec → protocol, RDS name or inline
 * route_config → routes, HTTP filters → governance rules and the listener's governance filters. A required HTTP filter
 * we cannot honour throws (NACK); an optional one is ignored with a warning.
 */
final class HttpListeners {

    static final String ROUTER = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";
    static final String FAULT = "type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault";
    static final String LOCAL_RATELIMIT = "type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3"
            + ".LocalRateLimit";
    static final String RBAC = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";

    /**
     * HTTP filters Istio puts on every HTTP listener that the core can leave out without changing what a request
     * gets: telemetry ({@code istio.stats}, {@code grpc_stats}), peer metadata for telemetry
     * ({@code istio.metadata_exchange}), ALPN overrides for its own TLS ({@code istio.alpn}), CORS and gRPC-Web (browser
     * concerns of a gateway, not of a sidecar's mesh traffic). By typed_config type URL (TypedStruct envelopes
     * removed), or by filter name for the Wasm-packaged variants. Each is ignored with one warning per process.
     */
    static final Set<String> IGNORED_TYPES = Set.of(
            "type.googleapis.com/io.istio.http.peer_metadata.Config",
            "type.googleapis.com/istio.envoy.config.filter.http.alpn.v2alpha1.FilterConfig",
            "type.googleapis.com/envoy.extensions.filters.http.grpc_stats.v3.FilterConfig",
            "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors",
            "type.googleapis.com/stats.PluginConfig",
            "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb");
    static final Set<String> IGNORED_NAMES = Set.of("istio.metadata_exchange", "istio.alpn", "istio.stats",
            "envoy.filters.http.grpc_stats", "envoy.filters.http.cors", "envoy.filters.http.grpc_web");

    /** The core's governance filter order. */
    static final List<String> GOVERNANCE_KINDS = List.of("access_control", "fault_inject", "rate_limit",
            "circuit_breaker");

    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private final XdsTranslator translator;
    private final Consumer<String> warn;

    HttpListeners(XdsTranslator translator, Consumer<String> warn) {
        this.translator = translator;
        this.warn = warn;
    }

    XListener listener(Listener l, Filter f, JsonNode networkGovernance, String p) throws ConfigException {
        String hp = p + ".http_connection_manager";
        HttpConnectionManager hcm = unpack(f.getTypedConfig(), HttpConnectionManager.class, hp);
        String protocol = switch (hcm.getCodecType()) {
            case AUTO -> "http";
            case HTTP1 -> "http1";
            case HTTP2 -> "http2";
            default -> throw new ConfigException(hp + ".codec_type", hcm.getCodecType() + " is not supported");
        };
        boolean inbound = l.getTrafficDirection() == TrafficDirection.INBOUND;
        ObjectNode governance = networkGovernance instanceof ObjectNode o ? o.deepCopy() : null;
        boolean router = false;
        for (HttpFilter hf : hcm.getHttpFiltersList()) {
            String fp = hp + ".http_filters[" + hf.getName() + "]";
            if (hf.getDisabled()) {
                continue;
            }
            if (!hf.hasTypedConfig()) {
                if (hf.getName().equals("envoy.filters.http.router")) {
                    router = true;
                    continue;
                }
                unsupported(hf, fp, hf.hasConfigDiscovery() ? "config_discovery" : "no typed_config");
                continue;
            }
            XdsTranslator.Typed t = XdsTranslator.typed(hf.getTypedConfig(), fp);
            if (t.type().equals(ROUTER)) {
                router = true;
            } else if (t.type().equals(XdsResources.GOVERNANCE) && t.value() != null) {
                governance = ConfigAssembler.merge(governance, StructJson.toJson(t.value()));
            } else if (t.type().equals(FAULT)) {
                HTTPFault fault = unpack(hf.getTypedConfig(), HTTPFault.class, fp);
                if (!fault.hasAbort() && !fault.hasDelay()) {
                    // Istio's form: the filter is always there, its faults come per route (typed_per_filter_config)
                    warn.accept("HTTP filter \"" + hf.getName() + "\" without abort or delay: nothing to inject "
                            + "(per-route fault overrides are not supported)");
                } else {
                    governance = ConfigAssembler.merge(governance, fault(fault, l.getName(), inbound, fp));
                }
            } else if (t.type().equals(LOCAL_RATELIMIT)) {
                governance = ConfigAssembler.merge(governance, rateLimit(unpack(hf.getTypedConfig(),
                        LocalRateLimit.class, fp), l.getName(), inbound, fp));
            } else if (IGNORED_TYPES.contains(t.type()) || IGNORED_NAMES.contains(hf.getName())) {
                warn.accept("HTTP filter \"" + hf.getName() + "\" (" + t.type() + ") is on the list of Istio filters "
                        + "Remora does not run (telemetry, peer metadata, ALPN, CORS, gRPC-Web); ignored on every "
                        + "listener");
            } else if (t.type().equals(RBAC)) {
                rbac(hf, fp);
            } else {
                unsupported(hf, fp, t.type());
            }
        }
        if (!router) {
            throw new ConfigException(hp + ".http_filters", "has no envoy.filters.http.router (required)");
        }
        List<SidecarConfig.Filter> filters = new ArrayList<>();
        if (governance != null) {
            for (String kind : GOVERNANCE_KINDS) {
                if (governance.has(kind)) {
                    filters.add(new SidecarConfig.Filter(kind, null));
                }
            }
        }
        String rds = null;
        List<SidecarConfig.Route> routes = null;
        Set<String> inline = new LinkedHashSet<>();
        switch (hcm.getRouteSpecifierCase()) {
            case RDS -> rds = hcm.getRds().getRouteConfigName();
            case ROUTE_CONFIG -> {
                routes = translator.routes(hcm.getRouteConfig(), hp + ".route_config").config().routes();
                routes.forEach(r -> XdsTranslator.collectClusters(r, inline));
            }
            default -> throw new ConfigException(hp, "route specifier " + hcm.getRouteSpecifierCase()
                    + " is not supported (rds or route_config)");
        }
        if (rds != null && rds.isEmpty()) {
            throw new ConfigException(hp + ".rds.route_config_name", "is empty");
        }
        Map<String, String> options = new LinkedHashMap<>();
        if (hcm.hasMaxRequestHeadersKb()) {
            options.put("max_header_bytes", Integer.toString(hcm.getMaxRequestHeadersKb().getValue() * 1024));
        }
        Long idle = hcm.getCommonHttpProtocolOptions().hasIdleTimeout()
                ? XdsTranslator.millis(hcm.getCommonHttpProtocolOptions().getIdleTimeout()) : null;
        SidecarConfig.Listener native_ = new SidecarConfig.Listener(l.getName(),
                XdsTranslator.address(l.getAddress(), p + ".address"), protocol, inbound ? "inbound" : "outbound",
                rds, routes, filters.isEmpty() ? null : filters, null, idle, options.isEmpty() ? null : options);
        return new XListener(l.getName(), native_, rds, Set.copyOf(inline), governance);
    }

    /**
     * Envoy RBAC has no clean mapping onto access_control (principals are SPIFFE identities from mTLS peers,
     * permissions are path/method/port trees): an RBAC filter that enforces nothing (shadow rules only, or an ALLOW
     * policy set that admits everyone) is ignored with a warning; one that would deny traffic is not silently
     * dropped: optional → ignored with a warning that it is NOT enforced, required → NACK.
     */
    private void rbac(HttpFilter hf, String fp) throws ConfigException {
        var cfg = unpack(hf.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class, fp);
        boolean enforcesNothing = !cfg.hasRules() || (cfg.getRules().getAction()
                == io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.ALLOW && cfg.getRules().getPoliciesMap().values()
                .stream().anyMatch(pol -> pol.getPermissionsList().stream().anyMatch(x -> x.getAny())
                        && pol.getPrincipalsList().stream().anyMatch(x -> x.getAny())))
                || (cfg.getRules().getAction() == io.envoyproxy.envoy.config.rbac.v3.RBAC.Action.DENY
                && cfg.getRules().getPoliciesCount() == 0);
        if (enforcesNothing) {
            warn.accept(fp + ": RBAC filter with no enforcing rules (shadow rules or allow-all); ignored");
            return;
        }
        if (!hf.getIsOptional()) {
            throw new ConfigException(fp, "HTTP filter \"" + hf.getName() + "\" (RBAC) has enforcing rules, which "
                    + "Remora cannot map (use access_control rules in remora.governance)");
        }
        warn.accept(fp + ": optional RBAC filter with enforcing rules is NOT enforced; ignored");
    }

    private void unsupported(HttpFilter hf, String fp, String type) throws ConfigException {
        if (!hf.getIsOptional()) {
            throw new ConfigException(fp, "HTTP filter \"" + hf.getName() + "\" (" + type + ") is not supported and "
                    + "not is_optional");
        }
        warn.accept(fp + ": optional HTTP filter \"" + hf.getName() + "\" (" + type + ") is not supported; ignored");
    }

    /** Envoy fault → {@code fault_inject} rules (abort first: only the first matching rule applies in the core). */
    private static ObjectNode fault(HTTPFault fault, String listener, boolean inbound, String fp)
            throws ConfigException {
        if (!fault.getUpstreamCluster().isEmpty() || fault.getDownstreamNodesCount() > 0) {
            throw new ConfigException(fp, "upstream_cluster and downstream_nodes are not supported");
        }
        ArrayNode conditions = F.arrayNode();
        conditions.addObject().put("source", "system").put("field", "traffic_type").put("operator", "equals")
                .put("value", "http");
        for (HeaderMatcher h : fault.getHeadersList()) {
            String hp = fp + ".headers[" + h.getName() + "]";
            if (h.getInvertMatch()) {
                throw new ConfigException(hp, "invert_match is not supported");
            }
            SidecarConfig.HeaderMatch m = XdsTranslator.headerMatch(h.getName(), h, hp);
            if (Boolean.FALSE.equals(m.present())) {
                throw new ConfigException(hp, "present_match false is not supported");
            }
            ObjectNode c = F.objectNode().put("source", "header").put("field", h.getName());
            if (m.exact() != null) {
                c.put("operator", "equals").put("value", m.exact());
            } else {
                c.put("operator", "regex").put("value", m.regex() != null ? m.regex() : "(?s).*");
            }
            conditions.add(c);
        }
        ArrayNode rules = F.arrayNode();
        if (fault.hasAbort()) {
            FaultAbort a = fault.getAbort();
            ObjectNode r = rule(listener + ".fault.abort", inbound, conditions).put("type", "abort")
                    .put("percentage", percent(a.getPercentage(), a.hasPercentage()));
            switch (a.getErrorTypeCase()) {
                case HTTP_STATUS -> r.put("abort_status", a.getHttpStatus());
                case GRPC_STATUS -> r.put("abort_status", a.getGrpcStatus());
                default -> throw new ConfigException(fp + ".abort", a.getErrorTypeCase() + " is not supported "
                        + "(http_status, grpc_status)");
            }
            rules.add(r);
        }
        if (fault.hasDelay()) {
            var d = fault.getDelay();
            if (!d.hasFixedDelay()) {
                throw new ConfigException(fp + ".delay", "only fixed_delay is supported");
            }
            rules.add(rule(listener + ".fault.delay", inbound, conditions).put("type", "delay")
                    .put("delay_ms", XdsTranslator.millis(d.getFixedDelay()))
                    .put("percentage", percent(d.getPercentage(), d.hasPercentage())));
        }
        ObjectNode out = F.objectNode();
        out.set("fault_inject", rules);
        return out;
    }

    /**
     * Envoy local rate limit → one {@code qps} rule: {@code tokens_per_fill} per {@code fill_interval}, bucket of
     * {@code max_tokens}. Like Envoy, it is off unless {@code filter_enabled} is set, and only observes unless
     * {@code filter_enforced} is set.
     */
    private ObjectNode rateLimit(LocalRateLimit rl, String listener, boolean inbound, String fp)
            throws ConfigException {
        if (!rl.hasTokenBucket()) {
            throw new ConfigException(fp, "has no token_bucket");
        }
        if (rl.getDescriptorsCount() > 0) {
            warn.accept(fp + ": descriptors are not supported; the listener-wide token bucket applies");
        }
        var tb = rl.getTokenBucket();
        int perFill = tb.hasTokensPerFill() ? tb.getTokensPerFill().getValue() : 1;
        long intervalMs = XdsTranslator.millis(tb.getFillInterval());
        if (perFill <= 0 || intervalMs <= 0 || tb.getMaxTokens() <= 0) {
            throw new ConfigException(fp + ".token_bucket", "max_tokens, tokens_per_fill and fill_interval must be "
                    + "> 0");
        }
        double enabled = rl.hasFilterEnabled() ? percent(rl.getFilterEnabled().getDefaultValue(), true) : 0;
        double enforced = rl.hasFilterEnforced() ? percent(rl.getFilterEnforced().getDefaultValue(), true) : 0;
        if ((enabled > 0 && enabled < 100) || (enforced > 0 && enforced < 100)) {
            warn.accept(fp + ": filter_enabled/filter_enforced fractions other than 0% or 100% are rounded up");
        }
        ArrayNode conditions = F.arrayNode();
        conditions.addObject().put("source", "system").put("field", "traffic_type").put("operator", "equals")
                .put("value", "http");
        ObjectNode r = rule(listener + ".local_ratelimit", inbound, conditions).put("type", "qps")
                .put("threshold", perFill).put("unit_ms", intervalMs)
                .put("bucket_coefficient", (double) tb.getMaxTokens() / perFill)
                .put("enabled", enabled > 0).put("mode", enforced > 0 ? "intercept" : "observe");
        ObjectNode out = F.objectNode();
        out.putArray("rate_limit").add(r);
        return out;
    }

    private static ObjectNode rule(String name, boolean inbound, ArrayNode conditions) {
        ObjectNode r = F.objectNode().put("name", name).put("direction", inbound ? "server" : "client")
                .put("service", "*").put("method", "*");
        r.set("conditions", conditions.deepCopy());
        return r;
    }

    private static double percent(FractionalPercent f, boolean present) {
        if (!present) {
            return 100;
        }
        double denominator = switch (f.getDenominator()) {
            case TEN_THOUSAND -> 10_000;
            case MILLION -> 1_000_000;
            default -> 100;
        };
        return Math.min(100, f.getNumerator() * 100.0 / denominator);
    }

    private static <T extends Message> T unpack(Any any, Class<T> type, String p) throws ConfigException {
        try {
            return any.unpack(type);
        } catch (InvalidProtocolBufferException e) {
            throw new ConfigException(p, "bad " + type.getSimpleName() + ": " + e.getMessage());
        }
    }
}
