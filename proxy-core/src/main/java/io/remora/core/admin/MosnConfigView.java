package io.remora.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Our running config in MOSN's v2 shapes ({@code pkg/config/v2}), for {@code /api/v1/config_dump} and its
 * {@code mosnconfig} / {@code alllisteners} / {@code allrouters} / {@code allclusters} parameters. What MOSN has no
 * field for travels under {@code "remora"} (MOSN's Go decoder ignores unknown fields). Secrets are redacted by the
 * caller.
 */
final class MosnConfigView {

    private final ObjectMapper json;
    private final AdminHost host;

    MosnConfigView(ObjectMapper json, AdminHost host) {
        this.json = json;
        this.host = host;
    }

    /** MOSN's effectiveConfig: mosn_config, listener, cluster, routers, extends. */
    ObjectNode effectiveConfig(ConfigSnapshot s) {
        ObjectNode root = json.createObjectNode();
        root.set("mosn_config", mosnConfig(s));
        root.set("listener", listeners(s.source()));
        root.set("cluster", clusters(s.source()));
        root.set("routers", routers(s.source()));
        root.set("extends", extendsSection(s.source()));
        return root;
    }

    /** MOSN's MOSNConfig without listeners, routers and clusters (as MOSN's SetMosnConfig stores it). */
    ObjectNode mosnConfig(ConfigSnapshot s) {
        ObjectNode root = json.createObjectNode();
        ObjectNode server = root.putArray("servers").addObject();
        SidecarConfig.Node node = s.source().node();
        if (node != null && node.id() != null) {
            server.put("mosn_server_name", node.id());
        }
        server.put("default_log_path", host.logs().dir().resolve("default.log").toString());
        server.put("default_log_level", host.logs().levels().getOrDefault("", "ERROR"));
        server.put("global_log_roller", "size=100");
        server.put("graceful_timeout", Durations.go(host.startOptions().drainTimeout().toMillis()));
        server.put("processor", s.workerThreads());
        root.putObject("cluster_manager");
        InetSocketAddress a = host.adminServer().address();
        if (a == null) {
            a = s.adminAddress();
        }
        if (a != null) {
            ObjectNode sa = root.putObject("admin").putObject("address").putObject("socket_address");
            sa.put("address", a.getAddress().getHostAddress());
            sa.put("port_value", a.getPort());
        }
        return root;
    }

    /** name -> MOSN Listener. */
    ObjectNode listeners(SidecarConfig c) {
        ObjectNode out = json.createObjectNode();
        for (SidecarConfig.Listener l : list(c.listeners())) {
            out.set(l.name(), listener(l));
        }
        return out;
    }

    private ObjectNode listener(SidecarConfig.Listener l) {
        ObjectNode o = json.createObjectNode();
        o.put("name", l.name());
        o.put("type", "inbound".equalsIgnoreCase(l.direction()) ? "ingress" : "egress");
        o.put("address", l.address());
        o.put("bind_port", true);
        if (Boolean.TRUE.equals(l.transparent())) {
            o.put("use_original_dst", "tproxy");
        }
        ObjectNode proxy = o.putArray("filter_chains").addObject().putArray("filters").addObject();
        proxy.put("type", "proxy");
        ObjectNode pc = proxy.putObject("config");
        String protocol = "auto".equals(l.protocol()) ? "Auto" : l.protocol();
        pc.put("downstream_protocol", protocol);
        pc.put("upstream_protocol", protocol);
        pc.put("router_config_name", l.routeConfig() != null ? l.routeConfig() : l.name());
        if (l.options() != null || l.maxFrameBytes() != null) {
            ObjectNode ext = pc.putObject("extend_config");
            if (l.options() != null) {
                l.options().forEach(ext::put);
            }
            if (l.maxFrameBytes() != null) {
                ext.put("max_frame_bytes", l.maxFrameBytes());
            }
        }
        if (l.filters() != null && !l.filters().isEmpty()) {
            ArrayNode sf = o.putArray("stream_filters");
            for (SidecarConfig.Filter f : l.filters()) {
                ObjectNode fo = sf.addObject();
                fo.put("type", f.type());
                if (f.config() != null) {
                    fo.set("config", f.config().deepCopy());
                }
            }
        }
        if (l.idleTimeoutMs() != null) {
            o.put("connection_idle_timeout", Durations.go(l.idleTimeoutMs()));
        }
        return o;
    }

    /** name -> MOSN RouterConfiguration: every route config, and each listener's inline routes under its name. */
    ObjectNode routers(SidecarConfig c) {
        ObjectNode out = json.createObjectNode();
        for (SidecarConfig.RouteConfig rc : list(c.routeConfigs())) {
            out.set(rc.name(), router(rc.name(), rc.routes()));
        }
        for (SidecarConfig.Listener l : list(c.listeners())) {
            if (l.routes() != null && l.routeConfig() == null) {
                out.set(l.name(), router(l.name(), l.routes()));
            }
        }
        return out;
    }

    private ObjectNode router(String name, List<SidecarConfig.Route> routes) {
        ObjectNode o = json.createObjectNode();
        o.put("router_config_name", name);
        ObjectNode vh = o.putArray("virtual_hosts").addObject();
        vh.put("name", name);
        vh.putArray("domains").add("*");
        ArrayNode rs = vh.putArray("routers");
        for (SidecarConfig.Route r : list(routes)) {
            rs.add(route(r));
        }
        return o;
    }

    private ObjectNode route(SidecarConfig.Route r) {
        ObjectNode o = json.createObjectNode();
        ObjectNode match = o.putObject("match");
        SidecarConfig.RouteMatch m = r.match();
        if (m != null) {
            if (m.prefix() != null) {
                match.put("prefix", m.prefix());
            }
            if (m.path() != null) {
                match.put("path", m.path());
            }
            if (m.pathRegex() != null) {
                match.put("regex", m.pathRegex());
            }
            ArrayNode hs = json.createArrayNode();
            // MOSN's SOFARPC routes match the "service" header; the method travels as "method"
            if (m.service() != null && !"*".equals(m.service())) {
                hs.addObject().put("name", "service").put("value", m.service());
            }
            if (m.method() != null && !"*".equals(m.method())) {
                hs.addObject().put("name", "method").put("value", m.method());
            }
            for (SidecarConfig.HeaderMatch h : list(m.headers())) {
                ObjectNode ho = hs.addObject().put("name", h.name());
                if (h.exact() != null) {
                    ho.put("value", h.exact());
                } else if (h.regex() != null) {
                    ho.put("value", h.regex()).put("regex", true);
                } else {
                    ho.put("value", ".*").put("regex", true);
                }
            }
            if (!hs.isEmpty()) {
                match.set("headers", hs);
            }
        }
        ObjectNode action = o.putObject("route");
        if (r.cluster() != null) {
            action.put("cluster_name", r.cluster());
        } else {
            ArrayNode wc = action.putArray("weighted_clusters");
            for (SidecarConfig.WeightedCluster w : list(r.weightedClusters())) {
                wc.addObject().putObject("cluster").put("name", w.cluster()).put("weight", w.weight());
            }
        }
        if (r.timeoutMs() != null) {
            action.put("timeout", Durations.go(r.timeoutMs()));
        }
        SidecarConfig.RetryPolicy rp = r.retryPolicy();
        if (rp != null) {
            ObjectNode ro = action.putObject("retry_policy");
            ro.put("retry_on", true);
            if (rp.numRetries() != null) {
                ro.put("num_retries", rp.numRetries());
            }
            if (rp.perTryTimeoutMs() != null) {
                ro.put("retry_timeout", Durations.go(rp.perTryTimeoutMs()));
            }
        }
        ObjectNode extra = json.createObjectNode();
        if (r.name() != null) {
            extra.put("name", r.name());
        }
        if (m != null && m.destination() != null) {
            extra.put("destination", m.destination());
        }
        if (rp != null) {
            extra.set("retry_policy", json.valueToTree(rp));
        }
        if (!extra.isEmpty()) {
            o.putObject("per_filter_config").set("remora", extra);
        }
        return o;
    }

    /** name -> MOSN Cluster. */
    ObjectNode clusters(SidecarConfig c) {
        ObjectNode out = json.createObjectNode();
        for (SidecarConfig.Cluster cl : list(c.clusters())) {
            out.set(cl.name(), cluster(cl));
        }
        return out;
    }

    private ObjectNode cluster(SidecarConfig.Cluster c) {
        ObjectNode o = json.createObjectNode();
        o.put("name", c.name());
        boolean originalDst = "original_dst".equals(c.type());
        o.put("type", originalDst ? "ORIGINAL_DST" : "SIMPLE");
        o.put("lb_type", originalDst ? "LB_ORIGINAL_DST" : lbType(c.lbPolicy()));
        o.put("max_request_per_conn", c.maxPendingRequests() != null ? c.maxPendingRequests()
                : ConfigCompiler.DEFAULT_MAX_PENDING);
        o.put("connect_timeout", Durations.go(c.connectTimeoutMs() != null ? c.connectTimeoutMs()
                : ConfigCompiler.DEFAULT_CONNECT_TIMEOUT_MS));
        SidecarConfig.HealthCheck hc = c.healthCheck();
        if (hc != null) {
            ObjectNode h = o.putObject("health_check");
            h.put("protocol", "heartbeat".equals(hc.type()) && c.protocol() != null ? c.protocol()
                    : hc.type() == null ? "tcp" : hc.type());
            if (hc.timeoutMs() != null) {
                h.put("timeout", Durations.go(hc.timeoutMs()));
            }
            if (hc.intervalMs() != null) {
                h.put("interval", Durations.go(hc.intervalMs()));
            }
            if (hc.healthyThreshold() != null) {
                h.put("healthy_threshold", hc.healthyThreshold());
            }
            if (hc.unhealthyThreshold() != null) {
                h.put("unhealthy_threshold", hc.unhealthyThreshold());
            }
        }
        ArrayNode hosts = o.putArray("hosts");
        for (SidecarConfig.Host h : list(c.hosts())) {
            ObjectNode ho = hosts.addObject();
            ho.put("address", h.address());
            ho.put("weight", h.weight() == null ? 1 : h.weight());
            if (h.labels() != null && !h.labels().isEmpty()) {
                ho.putObject("metadata").putObject("filter_metadata").set("mosn.lb", json.valueToTree(h.labels()));
            }
        }
        ObjectNode extra = json.createObjectNode();
        if (c.protocol() != null) {
            extra.put("protocol", c.protocol());
        }
        if (c.lbPolicy() != null) {
            extra.put("lb_policy", c.lbPolicy());
        }
        if (c.heartbeatIntervalMs() != null) {
            extra.put("heartbeat_interval_ms", c.heartbeatIntervalMs());
        }
        if (c.maxFrameBytes() != null) {
            extra.put("max_frame_bytes", c.maxFrameBytes());
        }
        if (c.outlierDetection() != null) {
            extra.set("outlier_detection", json.valueToTree(c.outlierDetection()));
        }
        if (c.panicThresholdPercent() != null) {
            extra.put("panic_threshold_percent", c.panicThresholdPercent());
        }
        if (!extra.isEmpty()) {
            o.set("remora", extra);
        }
        return o;
    }

    private static String lbType(String policy) {
        if (policy == null) {
            return "LB_ROUNDROBIN";
        }
        return switch (policy.toLowerCase(Locale.ROOT)) {
            case "random" -> "LB_RANDOM";
            case "least_request" -> "LB_LEAST_REQUEST";
            default -> "LB_ROUNDROBIN"; // round_robin, and weighted: MOSN's round robin honours host weights
        };
    }

    /** MOSN's ExtendConfig list: one {@code {"type","config"}} per plugin section under {@code extensions}. */
    ArrayNode extendsSection(SidecarConfig c) {
        ArrayNode out = json.createArrayNode();
        if (c.extensions() != null) {
            for (Map.Entry<String, JsonNode> e : c.extensions().entrySet()) {
                out.addObject().put("type", e.getKey()).set("config", e.getValue() == null ? null
                        : e.getValue().deepCopy());
            }
        }
        return out;
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }
}
