package io.remora.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.HealthCheckPolicy;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.OutlierPolicy;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Our running config as Envoy's {@code /config_dump}: an {@code envoy.admin.v3.ConfigDump} whose configs are the
 * Bootstrap, Clusters, (Endpoints with {@code include_eds}), Listeners and Routes dumps, in Envoy's order, with
 * Envoy's v3 field names. A resource still equal to the one the process started with is "static"; one that came
 * later (xDS, the admin API) is "dynamic" with the snapshot version as its version_info. Protocol-specific settings
 * Envoy has no field for travel in a {@code TypedStruct} or in {@code metadata.filter_metadata.remora}.
 */
final class EnvoyConfigDump {

    static final String T = "type.googleapis.com/";
    static final String ADMIN = T + "envoy.admin.v3.";

    /** The repeated resource fields {@code ?resource=} accepts, and the message type of their elements. */
    static final Map<String, String> RESOURCES = Map.ofEntries(
            Map.entry("static_listeners", ADMIN + "ListenersConfigDump.StaticListener"),
            Map.entry("dynamic_listeners", ADMIN + "ListenersConfigDump.DynamicListener"),
            Map.entry("static_clusters", ADMIN + "ClustersConfigDump.StaticCluster"),
            Map.entry("dynamic_active_clusters", ADMIN + "ClustersConfigDump.DynamicCluster"),
            Map.entry("dynamic_warming_clusters", ADMIN + "ClustersConfigDump.DynamicCluster"),
            Map.entry("static_route_configs", ADMIN + "RoutesConfigDump.StaticRouteConfig"),
            Map.entry("dynamic_route_configs", ADMIN + "RoutesConfigDump.DynamicRouteConfig"),
            Map.entry("static_endpoint_configs", ADMIN + "EndpointsConfigDump.StaticEndpointConfig"),
            Map.entry("dynamic_endpoint_configs", ADMIN + "EndpointsConfigDump.DynamicEndpointConfig"));

    private static final String LISTENER = T + "envoy.config.listener.v3.Listener";
    private static final String CLUSTER = T + "envoy.config.cluster.v3.Cluster";
    private static final String ROUTE_CONFIG = T + "envoy.config.route.v3.RouteConfiguration";
    private static final String LOAD_ASSIGNMENT = T + "envoy.config.endpoint.v3.ClusterLoadAssignment";

    private final ObjectMapper json;
    private final AdminHost host;

    EnvoyConfigDump(ObjectMapper json, AdminHost host) {
        this.json = json;
        this.host = host;
    }

    /** The whole dump: {@code {"configs":[...]}}. */
    ObjectNode dump(boolean includeEds) {
        ObjectNode root = json.createObjectNode();
        ArrayNode configs = root.putArray("configs");
        ConfigSnapshot s = host.config().current();
        configs.add(bootstrap());
        if (s == null) {
            return root;
        }
        SidecarConfig initial = host.initialConfig();
        configs.add(clusters(s, initial));
        if (includeEds) {
            configs.add(endpoints(s, initial));
        }
        configs.add(listeners(s, initial));
        configs.add(routes(s, initial));
        CoreAdminEndpoints.redact(root);
        return root;
    }

    /**
     * {@code ?resource=}: each element of that repeated field, packed with its own {@code @type}, filtered by
     * {@code nameRegex}. Throws {@link AdminProblem} for a field that is not repeated (400) or unknown (404), as Envoy.
     */
    ObjectNode resource(String resource, boolean includeEds, Pattern nameRegex) {
        ObjectNode all = dump(includeEds);
        ObjectNode root = json.createObjectNode();
        ArrayNode out = root.putArray("configs");
        if (resource.equals("bootstrap")) {
            throw new AdminProblem(400,
                    "bootstrap is not a repeated field. Use ?mask=bootstrap to get only this field");
        }
        boolean known = false;
        for (JsonNode config : all.get("configs")) {
            JsonNode field = config.get(resource);
            if (RESOURCES.containsKey(resource) && config.has("@type") && owns(config, resource)) {
                known = true;
            }
            if (field == null) {
                continue;
            }
            known = true;
            for (JsonNode element : field) {
                if (nameRegex == null || nameRegex.matcher(nameOf(element)).matches()) {
                    ObjectNode packed = json.createObjectNode();
                    packed.put("@type", RESOURCES.get(resource));
                    packed.setAll((ObjectNode) element);
                    out.add(packed);
                }
            }
        }
        if (!known) {
            throw new AdminProblem(404, resource + " not found in config dump");
        }
        return root;
    }

    /** Whether {@code resource} is a field of this config's message type, present or empty (proto JSON omits empty). */
    private static boolean owns(JsonNode config, String resource) {
        String type = config.get("@type").asText();
        String elementType = RESOURCES.get(resource);
        return elementType.startsWith(type + ".");
    }

    /** Keeps only resources whose name matches, in every config of a whole dump. */
    static void filterNames(ObjectNode dump, Pattern nameRegex) {
        for (JsonNode config : dump.get("configs")) {
            for (String field : RESOURCES.keySet()) {
                JsonNode list = config.get(field);
                if (list instanceof ArrayNode a) {
                    for (Iterator<JsonNode> it = a.elements(); it.hasNext(); ) {
                        if (!nameRegex.matcher(nameOf(it.next())).matches()) {
                            it.remove();
                        }
                    }
                    if (a.isEmpty()) {
                        ((ObjectNode) config).remove(field);
                    }
                }
            }
        }
    }

    /** The name of a dumped resource: listener, cluster, route config or endpoint config. */
    static String nameOf(JsonNode element) {
        if (element.hasNonNull("name")) {
            return element.get("name").asText();
        }
        for (String inner : new String[] {"listener", "cluster", "route_config", "endpoint_config"}) {
            JsonNode n = element.get(inner);
            if (n != null) {
                return n.hasNonNull("name") ? n.get("name").asText() : n.path("cluster_name").asText();
            }
        }
        JsonNode active = element.get("active_state");
        return active == null ? "" : nameOf(active);
    }

    /**
     * Envoy's field mask: keeps only the listed dotted paths (and {@code @type}) in {@code node}; a path continues
     * into each element of an array and into packed ({@code @type}) messages.
     */
    static void mask(JsonNode node, String mask) {
        Map<String, Object> tree = new LinkedHashMap<>();
        for (String path : mask.split(",")) {
            String p = path.strip();
            if (p.isEmpty()) {
                continue;
            }
            Map<String, Object> level = tree;
            String[] parts = p.split("\\.");
            for (int i = 0; i < parts.length; i++) {
                if (i == parts.length - 1) {
                    level.put(parts[i], null);
                } else {
                    Object next = level.get(parts[i]);
                    if (!level.containsKey(parts[i]) || next != null) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> sub = next == null ? new LinkedHashMap<>() : (Map<String, Object>) next;
                        level.put(parts[i], sub);
                        level = sub;
                    } else {
                        break; // a shorter path already keeps the whole field
                    }
                }
            }
        }
        trim(node, tree);
    }

    @SuppressWarnings("unchecked")
    private static void trim(JsonNode node, Map<String, Object> tree) {
        if (node instanceof ArrayNode a) {
            a.forEach(e -> trim(e, tree));
            return;
        }
        if (!(node instanceof ObjectNode o)) {
            return;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("@type")) {
                continue;
            }
            if (!tree.containsKey(e.getKey())) {
                it.remove();
            } else if (tree.get(e.getKey()) != null) {
                trim(e.getValue(), (Map<String, Object>) tree.get(e.getKey()));
            }
        }
    }

    // ---------------------------------------------------------------- the dumps

    private ObjectNode bootstrap() {
        ObjectNode o = json.createObjectNode();
        o.put("@type", ADMIN + "BootstrapConfigDump");
        ObjectNode b = o.putObject("bootstrap");
        SidecarConfig initial = host.initialConfig();
        b.set("node", node(initial == null ? null : initial.node()));
        if (initial != null) {
            ObjectNode sr = b.putObject("static_resources");
            ArrayNode ls = sr.putArray("listeners");
            for (SidecarConfig.Listener l : list(initial.listeners())) {
                ls.add(listener(l));
            }
            ArrayNode cs = sr.putArray("clusters");
            ConfigSnapshot s = host.config().current();
            for (SidecarConfig.Cluster c : list(initial.clusters())) {
                Cluster compiled = s == null ? null : s.cluster(c.name());
                cs.add(cluster(c, compiled != null && Objects.equals(sourceCluster(s, c.name()), c) ? compiled
                        : null));
            }
        }
        ObjectNode admin = b.putObject("admin");
        InetSocketAddress a = host.adminServer().address();
        Path sock = host.adminServer().unixSocket();
        if (a != null) {
            admin.set("address", socketAddress(a.getAddress().getHostAddress(), a.getPort()));
        } else if (sock != null) {
            admin.putObject("address").putObject("pipe").put("path", sock.toString());
        }
        o.put("last_updated", host.startedAt().toString());
        return o;
    }

    private ObjectNode node(SidecarConfig.Node n) {
        ObjectNode o = json.createObjectNode();
        if (n != null && n.id() != null) {
            o.put("id", n.id());
        }
        if (n != null && n.cluster() != null) {
            o.put("cluster", n.cluster());
        }
        ObjectNode md = json.createObjectNode();
        if (n != null && n.app() != null) {
            md.put("app", n.app());
        }
        if (n != null && n.labels() != null) {
            n.labels().forEach(md::put);
            ObjectNode locality = json.createObjectNode();
            for (String k : new String[] {"region", "zone", "sub_zone"}) {
                if (n.labels().containsKey(k)) {
                    locality.put(k, n.labels().get(k));
                }
            }
            if (!locality.isEmpty()) {
                o.set("locality", locality);
            }
        }
        if (!md.isEmpty()) {
            o.set("metadata", md);
        }
        o.put("user_agent_name", "remora");
        o.put("user_agent_version", host.startOptions().version());
        ArrayNode ext = json.createArrayNode();
        for (AdminHost.Plugin p : host.plugins()) {
            ext.addObject().put("name", p.name()).put("category", "remora." + p.kind());
        }
        o.set("extensions", ext);
        return o;
    }

    ObjectNode nodeOfRunningConfig() {
        ConfigSnapshot s = host.config().current();
        SidecarConfig.Node n = s != null ? s.source().node()
                : host.initialConfig() == null ? null : host.initialConfig().node();
        return node(n);
    }

    private ObjectNode clusters(ConfigSnapshot s, SidecarConfig initial) {
        ObjectNode o = json.createObjectNode();
        o.put("@type", ADMIN + "ClustersConfigDump");
        ArrayNode statics = json.createArrayNode();
        ArrayNode dynamics = json.createArrayNode();
        for (SidecarConfig.Cluster c : list(s.source().clusters())) {
            ObjectNode cl = packed(CLUSTER, cluster(c, s.cluster(c.name())));
            if (initial != null && list(initial.clusters()).contains(c)) {
                statics.addObject().<ObjectNode>set("cluster", cl).put("last_updated", host.startedAt().toString());
            } else {
                dynamics.addObject().put("version_info", Long.toString(s.version())).<ObjectNode>set("cluster", cl)
                        .put("last_updated", s.appliedAt().toString());
            }
        }
        if (!dynamics.isEmpty()) {
            o.put("version_info", Long.toString(s.version()));
        }
        putIfAny(o, "static_clusters", statics);
        putIfAny(o, "dynamic_active_clusters", dynamics);
        return o;
    }

    private ObjectNode cluster(SidecarConfig.Cluster c, Cluster compiled) {
        ObjectNode o = json.createObjectNode();
        o.put("name", c.name());
        boolean originalDst = "original_dst".equals(c.type());
        o.put("type", originalDst ? "ORIGINAL_DST" : "STATIC");
        long connectTimeout = compiled != null ? compiled.connectTimeoutMillis()
                : c.connectTimeoutMs() != null ? c.connectTimeoutMs()
                : io.remora.core.config.ConfigCompiler.DEFAULT_CONNECT_TIMEOUT_MS;
        o.put("connect_timeout", Durations.proto(connectTimeout));
        o.put("lb_policy", originalDst ? "CLUSTER_PROVIDED" : lbPolicy(c.lbPolicy()));
        if (!originalDst) {
            o.set("load_assignment", loadAssignment(c.name(), c.hosts(), compiled, false));
        }
        int maxPending = compiled != null ? compiled.maxPendingRequests()
                : c.maxPendingRequests() != null ? c.maxPendingRequests()
                : io.remora.core.config.ConfigCompiler.DEFAULT_MAX_PENDING;
        o.putObject("circuit_breakers").putArray("thresholds").addObject().put("max_pending_requests", maxPending);
        HealthCheckPolicy hc = compiled == null ? null : compiled.healthCheck();
        if (hc != null) {
            ObjectNode h = o.putArray("health_checks").addObject();
            h.put("timeout", Durations.proto(hc.timeoutMillis()));
            h.put("interval", Durations.proto(hc.intervalMillis()));
            h.put("unhealthy_threshold", hc.unhealthyThreshold());
            h.put("healthy_threshold", hc.healthyThreshold());
            if ("heartbeat".equals(hc.type())) {
                h.putObject("custom_health_check").put("name", "remora.heartbeat");
            } else {
                h.putObject("tcp_health_check");
            }
        }
        OutlierPolicy op = compiled == null ? null : compiled.outlier();
        if (op != null) {
            ObjectNode od = o.putObject("outlier_detection");
            od.put("interval", Durations.proto(op.windowSeconds() * 1000L));
            od.put("base_ejection_time", Durations.proto(op.baseIsolationMillis()));
            od.put("max_ejection_time", Durations.proto(op.maxIsolationMillis()));
            od.put("failure_percentage_threshold", (int) Math.min(100, Math.round(op.limit() * 100)));
            od.put("failure_percentage_request_volume", op.minRequests());
            od.put("enforcing_failure_percentage", op.monitorOnly() ? 0 : 100);
            od.put("enforcing_consecutive_5xx", 0);
            od.put("enforcing_success_rate", 0);
        }
        if (compiled != null) {
            o.putObject("common_lb_config").putObject("healthy_panic_threshold").put("value", compiled.panicPercent());
        }
        ObjectNode remora = json.createObjectNode();
        if (c.protocol() != null) {
            remora.put("protocol", c.protocol());
        }
        if (c.lbPolicy() != null) {
            remora.put("lb_policy", c.lbPolicy());
        }
        if (compiled != null) {
            remora.put("heartbeat_interval_ms", compiled.heartbeatIntervalMillis());
        }
        if (c.maxFrameBytes() != null) {
            remora.put("max_frame_bytes", c.maxFrameBytes());
        }
        if (op != null) {
            remora.put("max_isolated", op.maxIsolated());
        }
        if (!remora.isEmpty()) {
            o.putObject("metadata").putObject("filter_metadata").set("remora", remora);
        }
        return o;
    }

    /** ClusterLoadAssignment; with {@code health}, each endpoint's live health status (EDS view). */
    private ObjectNode loadAssignment(String cluster, List<SidecarConfig.Host> hosts, Cluster compiled,
                                      boolean health) {
        ObjectNode la = json.createObjectNode();
        la.put("cluster_name", cluster);
        ArrayNode lbs = la.putArray("endpoints").addObject().putArray("lb_endpoints");
        Map<String, Host> live = new HashMap<>();
        if (compiled != null) {
            for (Host h : compiled.hosts()) {
                live.put(h.address(), h);
            }
        }
        long now = System.nanoTime();
        for (SidecarConfig.Host h : list(hosts)) {
            ObjectNode e = lbs.addObject();
            ObjectNode ep = e.putObject("endpoint");
            ep.set("address", socketAddress(h.address()));
            if (health) {
                ep.putObject("health_check_config");
                Host lh = live.get(h.address());
                boolean healthy = lh == null || (!lh.failedHealthCheck() && !lh.ejected() && lh.available(now));
                e.put("health_status", healthy ? "HEALTHY" : "UNHEALTHY");
            }
            if (h.labels() != null && !h.labels().isEmpty()) {
                e.putObject("metadata").putObject("filter_metadata").set("envoy.lb", json.valueToTree(h.labels()));
            }
            e.put("load_balancing_weight", h.weight() == null ? 1 : h.weight());
        }
        if (health) {
            la.putObject("policy").put("overprovisioning_factor", 140);
        }
        return la;
    }

    private ObjectNode endpoints(ConfigSnapshot s, SidecarConfig initial) {
        ObjectNode o = json.createObjectNode();
        o.put("@type", ADMIN + "EndpointsConfigDump");
        ArrayNode statics = json.createArrayNode();
        ArrayNode dynamics = json.createArrayNode();
        for (SidecarConfig.Cluster c : list(s.source().clusters())) {
            if ("original_dst".equals(c.type())) {
                continue;
            }
            ObjectNode packed = packed(LOAD_ASSIGNMENT,
                    loadAssignment(c.name(), c.hosts(), s.cluster(c.name()), true));
            if (initial != null && list(initial.clusters()).contains(c)) {
                statics.addObject().<ObjectNode>set("endpoint_config", packed)
                        .put("last_updated", host.startedAt().toString());
            } else {
                dynamics.addObject().put("version_info", Long.toString(s.version()))
                        .<ObjectNode>set("endpoint_config", packed).put("last_updated", s.appliedAt().toString());
            }
        }
        putIfAny(o, "static_endpoint_configs", statics);
        putIfAny(o, "dynamic_endpoint_configs", dynamics);
        return o;
    }

    private ObjectNode listeners(ConfigSnapshot s, SidecarConfig initial) {
        ObjectNode o = json.createObjectNode();
        o.put("@type", ADMIN + "ListenersConfigDump");
        ArrayNode statics = json.createArrayNode();
        ArrayNode dynamics = json.createArrayNode();
        for (SidecarConfig.Listener l : list(s.source().listeners())) {
            ObjectNode lo = packed(LISTENER, listener(l));
            if (initial != null && list(initial.listeners()).contains(l)) {
                statics.addObject().<ObjectNode>set("listener", lo).put("last_updated", host.startedAt().toString());
            } else {
                ObjectNode d = dynamics.addObject().put("name", l.name());
                d.putObject("active_state").put("version_info", Long.toString(s.version()))
                        .<ObjectNode>set("listener", lo).put("last_updated", s.appliedAt().toString());
            }
        }
        if (!dynamics.isEmpty()) {
            o.put("version_info", Long.toString(s.version()));
        }
        putIfAny(o, "static_listeners", statics);
        putIfAny(o, "dynamic_listeners", dynamics);
        return o;
    }

    private ObjectNode listener(SidecarConfig.Listener l) {
        ObjectNode o = json.createObjectNode();
        o.put("name", l.name());
        o.set("address", socketAddress(l.address()));
        o.put("traffic_direction", "inbound".equalsIgnoreCase(l.direction()) ? "INBOUND" : "OUTBOUND");
        if (Boolean.TRUE.equals(l.transparent())) {
            o.put("transparent", true);
        }
        ObjectNode filter = o.putArray("filter_chains").addObject().putArray("filters").addObject();
        filter.put("name", "remora.proxy." + l.protocol());
        ObjectNode typed = filter.putObject("typed_config");
        typed.put("@type", T + "xds.type.v3.TypedStruct");
        typed.put("type_url", "remora.io/remora.proxy.v1.Proxy");
        ObjectNode v = typed.putObject("value");
        v.put("protocol", l.protocol());
        v.put("route_config_name", l.routeConfig() != null ? l.routeConfig() : l.name());
        if (l.filters() != null && !l.filters().isEmpty()) {
            v.set("stream_filters", json.valueToTree(l.filters()));
        }
        if (l.maxFrameBytes() != null) {
            v.put("max_frame_bytes", l.maxFrameBytes());
        }
        if (l.idleTimeoutMs() != null) {
            v.put("idle_timeout", Durations.proto(l.idleTimeoutMs()));
        }
        if (l.options() != null) {
            v.set("options", json.valueToTree(l.options()));
        }
        return o;
    }

    private ObjectNode routes(ConfigSnapshot s, SidecarConfig initial) {
        ObjectNode o = json.createObjectNode();
        o.put("@type", ADMIN + "RoutesConfigDump");
        ArrayNode statics = json.createArrayNode();
        ArrayNode dynamics = json.createArrayNode();
        Map<String, List<SidecarConfig.Route>> now = routeTables(s.source());
        Map<String, List<SidecarConfig.Route>> then = initial == null ? Map.of() : routeTables(initial);
        for (Map.Entry<String, List<SidecarConfig.Route>> e : now.entrySet()) {
            ObjectNode rc = packed(ROUTE_CONFIG, routeConfig(e.getKey(), e.getValue()));
            if (Objects.equals(then.get(e.getKey()), e.getValue())) {
                statics.addObject().<ObjectNode>set("route_config", rc)
                        .put("last_updated", host.startedAt().toString());
            } else {
                dynamics.addObject().put("version_info", Long.toString(s.version())).<ObjectNode>set("route_config", rc)
                        .put("last_updated", s.appliedAt().toString());
            }
        }
        putIfAny(o, "static_route_configs", statics);
        putIfAny(o, "dynamic_route_configs", dynamics);
        return o;
    }

    /** Route configs by name, and each listener's inline routes under the listener's name (as its RDS name). */
    private static Map<String, List<SidecarConfig.Route>> routeTables(SidecarConfig c) {
        Map<String, List<SidecarConfig.Route>> m = new LinkedHashMap<>();
        for (SidecarConfig.RouteConfig rc : list(c.routeConfigs())) {
            m.put(rc.name(), list(rc.routes()));
        }
        for (SidecarConfig.Listener l : list(c.listeners())) {
            if (l.routeConfig() == null && l.routes() != null) {
                m.put(l.name(), l.routes());
            }
        }
        return m;
    }

    private ObjectNode routeConfig(String name, List<SidecarConfig.Route> routes) {
        ObjectNode o = json.createObjectNode();
        o.put("name", name);
        ObjectNode vh = o.putArray("virtual_hosts").addObject();
        vh.put("name", name);
        vh.putArray("domains").add("*");
        ArrayNode rs = vh.putArray("routes");
        int i = 0;
        for (SidecarConfig.Route r : routes) {
            rs.add(route(r, name + "#" + i++));
        }
        return o;
    }

    private ObjectNode route(SidecarConfig.Route r, String defaultName) {
        ObjectNode o = json.createObjectNode();
        o.put("name", r.name() != null ? r.name() : defaultName);
        ObjectNode match = o.putObject("match");
        SidecarConfig.RouteMatch m = r.match();
        if (m != null && m.path() != null) {
            match.put("path", m.path());
        } else if (m != null && m.pathRegex() != null) {
            match.putObject("safe_regex").put("regex", m.pathRegex());
        } else {
            match.put("prefix", m != null && m.prefix() != null ? m.prefix() : "/");
        }
        ArrayNode hs = json.createArrayNode();
        if (m != null) {
            // RPC routing keys as the header matchers a Remora route applies them with
            if (m.service() != null && !"*".equals(m.service())) {
                hs.addObject().put("name", "service").putObject("string_match").put("exact", m.service());
            }
            if (m.method() != null && !"*".equals(m.method())) {
                hs.addObject().put("name", "method").putObject("string_match").put("exact", m.method());
            }
            for (SidecarConfig.HeaderMatch h : list(m.headers())) {
                ObjectNode ho = hs.addObject().put("name", h.name());
                if (h.exact() != null) {
                    ho.putObject("string_match").put("exact", h.exact());
                } else if (h.regex() != null) {
                    ho.putObject("string_match").putObject("safe_regex").put("regex", h.regex());
                } else {
                    ho.put("present_match", h.present() == null || h.present());
                }
            }
        }
        if (!hs.isEmpty()) {
            match.set("headers", hs);
        }
        ObjectNode action = o.putObject("route");
        if (r.cluster() != null) {
            action.put("cluster", r.cluster());
        } else {
            ArrayNode wc = action.putObject("weighted_clusters").putArray("clusters");
            for (SidecarConfig.WeightedCluster w : list(r.weightedClusters())) {
                wc.addObject().put("name", w.cluster()).put("weight", w.weight());
            }
        }
        if (r.timeoutMs() != null) {
            action.put("timeout", Durations.proto(r.timeoutMs()));
        }
        SidecarConfig.RetryPolicy rp = r.retryPolicy();
        if (rp != null) {
            ObjectNode ro = action.putObject("retry_policy");
            List<String> on = new ArrayList<>();
            for (String x : list(rp.retryOn())) {
                on.add(x.replace('_', '-').toLowerCase(Locale.ROOT));
            }
            ro.put("retry_on", String.join(",", on));
            if (rp.numRetries() != null) {
                ro.put("num_retries", rp.numRetries());
            }
            if (rp.perTryTimeoutMs() != null) {
                ro.put("per_try_timeout", Durations.proto(rp.perTryTimeoutMs()));
            }
            if (rp.backoffBaseMs() != null || rp.backoffMaxMs() != null) {
                ObjectNode bo = ro.putObject("retry_back_off");
                if (rp.backoffBaseMs() != null) {
                    bo.put("base_interval", Durations.proto(rp.backoffBaseMs()));
                }
                if (rp.backoffMaxMs() != null) {
                    bo.put("max_interval", Durations.proto(rp.backoffMaxMs()));
                }
            }
        }
        ObjectNode remora = json.createObjectNode();
        if (m != null && m.destination() != null) {
            remora.put("destination", m.destination());
        }
        if (rp != null && rp.idempotent() != null) {
            remora.put("idempotent", rp.idempotent());
        }
        if (!remora.isEmpty()) {
            o.putObject("metadata").putObject("filter_metadata").set("remora", remora);
        }
        return o;
    }

    // ---------------------------------------------------------------- helpers

    private static SidecarConfig.Cluster sourceCluster(ConfigSnapshot s, String name) {
        for (SidecarConfig.Cluster c : list(s.source().clusters())) {
            if (name.equals(c.name())) {
                return c;
            }
        }
        return null;
    }

    /** {@code message} as a google.protobuf.Any: its type URL first, then its fields. */
    private ObjectNode packed(String typeUrl, ObjectNode message) {
        ObjectNode o = json.createObjectNode();
        o.put("@type", typeUrl);
        o.setAll(message);
        return o;
    }

    private ObjectNode socketAddress(String hostPort) {
        if (hostPort == null) {
            return json.createObjectNode();
        }
        int i = hostPort.lastIndexOf(':');
        String h = i < 0 ? hostPort : hostPort.substring(0, i);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        int port;
        try {
            port = i < 0 ? 0 : Integer.parseInt(hostPort.substring(i + 1));
        } catch (NumberFormatException e) {
            port = 0;
        }
        return socketAddress(h, port);
    }

    private ObjectNode socketAddress(String address, int port) {
        ObjectNode o = json.createObjectNode();
        o.putObject("socket_address").put("address", address).put("port_value", port);
        return o;
    }

    private static String lbPolicy(String p) {
        if (p == null) {
            return "ROUND_ROBIN";
        }
        return switch (p) {
            case "random" -> "RANDOM";
            case "least_request" -> "LEAST_REQUEST";
            default -> "ROUND_ROBIN"; // weighted: Envoy's round robin honours load_balancing_weight
        };
    }

    private static void putIfAny(ObjectNode o, String field, ArrayNode a) {
        if (!a.isEmpty()) {
            o.set(field, a);
        }
    }

    private static <T> List<T> list(List<T> l) {
        return l == null ? List.of() : l;
    }
}
