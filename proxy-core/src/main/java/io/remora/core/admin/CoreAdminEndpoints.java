package io.remora.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.ConfigManager;
import io.remora.core.log.LogManager;
import io.remora.core.proxy.ListenerManager;
import io.remora.core.proxy.ListenerSlot;
import io.remora.core.transport.Transport;
import java.lang.management.ManagementFactory;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The core's own admin endpoints: log levels, readiness, liveness, metrics, clusters, and the Remora formats of the
 * config dump, stats and states (served on the MOSN paths by {@link MosnEndpoints}, which owns those paths).
 */
public final class CoreAdminEndpoints {

    /** Field names whose values config_dump never shows. */
    static final Set<String> SECRET_WORDS = Set.of("secret", "password", "passwd", "token", "private_key",
            "credential", "api_key", "apikey");

    private final ObjectMapper json = ConfigLoader.newMapper();
    private final AdminHost host;
    private final LogManager logs;
    private final ConfigManager config;
    private final ListenerManager listeners;
    private final PrometheusMeterRegistry metrics;

    public CoreAdminEndpoints(AdminHost host) {
        this.host = host;
        this.logs = host.logs();
        this.config = host.config();
        this.listeners = host.listeners();
        this.metrics = host.metrics();
    }

    /** Registers the core's, MOSN's and Envoy's admin paths (see docs/admin.md for the table). */
    public void registerAll(AdminRoutes routes) {
        registerOn(routes);
        new MosnEndpoints(host, this).registerOn(routes);
        new EnvoyEndpoints(host).registerOn(routes);
    }

    public void registerOn(AdminRoutes routes) {
        routes.register("GET", "/api/v1/get_loglevel", "log file path -> level; \"\" is the default logger",
                r -> AdminResponse.json(json.writeValueAsString(logs.levels())));
        routes.register("POST", "/api/v1/update_loglevel",
                "body {\"log_level\":\"INFO\",\"log_path\":\"<path>\"} (POST or PUT)", this::updateLogLevel);
        routes.register("PUT", "/api/v1/update_loglevel", this::updateLogLevel);
        routes.register("GET", "/api/v1/ready", "200 \"ready\" once every listener serves, else 503",
                r -> host.ready() ? AdminResponse.text("ready\n") : AdminResponse.error(503, "not ready"));
        routes.register("GET", "/healthz", "200 \"ok\" while the process runs", r -> AdminResponse.text("ok\n"));
        routes.register("GET", "/metrics", "Prometheus text format", r -> new AdminResponse(200,
                "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
        routes.register("GET", "/api/v1/clusters", "clusters and hosts: health, isolation, requests, failures",
                r -> AdminResponse.json(clusters()));
    }

    /** Every meter whose name starts with {@code prefix}: name, tags and current measurements. */
    String stats(String prefix) throws Exception {
        ArrayNode out = json.createArrayNode();
        metrics.getMeters().stream()
                .filter(m -> m.getId().getName().startsWith(prefix))
                .sorted(java.util.Comparator.comparing((io.micrometer.core.instrument.Meter m) -> m.getId().getName())
                        .thenComparing(m -> m.getId().getTags().toString()))
                .forEach(m -> {
                    ObjectNode o = out.addObject();
                    o.put("name", m.getId().getName());
                    ObjectNode tags = o.putObject("tags");
                    m.getId().getTags().forEach(t -> tags.put(t.getKey(), t.getValue()));
                    ObjectNode values = o.putObject("values");
                    m.measure().forEach(ms -> values.put(ms.getStatistic().name().toLowerCase(Locale.ROOT),
                            ms.getValue()));
                });
        return json.writeValueAsString(out);
    }

    /** Hosts per cluster with weight, labels, availability and success rate. */
    private String clusters() throws Exception {
        ObjectNode root = json.createObjectNode();
        ConfigSnapshot s = config.current();
        ArrayNode cs = root.putArray("clusters");
        if (s == null) {
            return json.writeValueAsString(root);
        }
        long now = System.nanoTime();
        for (Cluster c : s.clusters().values()) {
            ObjectNode co = cs.addObject();
            co.put("name", c.name());
            co.put("lb_policy", c.lbPolicy());
            co.put("protocol", c.protocol() == null ? "(listener's)" : c.protocol().name());
            ArrayNode hs = co.putArray("hosts");
            for (Host h : c.hosts()) {
                ObjectNode ho = hs.addObject();
                ho.put("address", h.address());
                ho.put("weight", h.weight());
                ho.set("labels", json.valueToTree(h.labels()));
                ho.put("health", h.failedHealthCheck() ? "failed_health_check"
                        : h.available(now) ? "healthy" : "connect_failed");
                ho.put("isolated", h.ejected());
                ho.put("isolations", h.ejections());
                ho.put("active_requests", h.activeRequests());
                long req = h.requestCount();
                long fail = h.failureCount();
                ho.put("requests", req);
                ho.put("failures", fail);
                if (req > 0) {
                    ho.put("success_rate", Math.round(10000.0 * (req - fail) / req) / 100.0);
                } else {
                    ho.putNull("success_rate");
                }
            }
        }
        return json.writeValueAsString(root);
    }

    private AdminResponse updateLogLevel(AdminRequest r) throws Exception {
        JsonNode body;
        try {
            body = json.readTree(r.body());
        } catch (Exception e) {
            return AdminResponse.error(400, "body must be JSON like {\"log_level\":\"INFO\",\"log_path\":\"<path>\"}");
        }
        if (body == null || !body.isObject() || !body.hasNonNull("log_level")) {
            return AdminResponse.error(400, "missing \"log_level\" (one of FATAL, ERROR, WARN, INFO, DEBUG, TRACE)");
        }
        String path = body.hasNonNull("log_path") ? body.get("log_path").asText() : "";
        logs.update(path, body.get("log_level").asText());
        return AdminResponse.text("update logger success");
    }

    /** Version, source, applied_at and the running config, secrets redacted. */
    ObjectNode configDump() {
        ConfigSnapshot s = config.current();
        ObjectNode root = json.createObjectNode();
        if (s == null) {
            root.put("version", 0);
            return root;
        }
        root.put("version", s.version());
        root.put("applied_at", s.appliedAt().toString());
        root.put("source", s.sourceName());
        JsonNode cfg = json.valueToTree(s.source());
        redact(cfg);
        root.set("config", cfg);
        return root;
    }

    /**
     * Replaces the value of every field named like a secret, and every value inside an object or list so named
     * ({@code "credentials": {"user": .., "key": ..}}). Booleans and nulls carry no secret: they stay readable.
     */
    static void redact(JsonNode node) {
        redact(node, false);
    }

    private static void redact(JsonNode node, boolean underSecret) {
        if (node instanceof ObjectNode o) {
            Iterator<Map.Entry<String, JsonNode>> it = o.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                boolean secret = underSecret || isSecret(e.getKey());
                JsonNode v = e.getValue();
                if (secret && v.isValueNode() && !v.isBoolean() && !v.isNull()) {
                    e.setValue(TextNode.valueOf("[redacted]"));
                } else {
                    redact(v, secret);
                }
            }
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                JsonNode v = a.get(i);
                if (underSecret && v.isValueNode() && !v.isBoolean() && !v.isNull()) {
                    a.set(i, TextNode.valueOf("[redacted]"));
                } else {
                    redact(v, underSecret);
                }
            }
        }
    }

    /** True when {@code name} (any case) names a secret. */
    static boolean isSecret(String name) {
        String k = name.toLowerCase(Locale.ROOT);
        return SECRET_WORDS.stream().anyMatch(k::contains);
    }

    /** State, pid, uptime, listeners with connection counts, clusters and hosts; MOSN's and Envoy's state too. */
    ObjectNode states() {
        ObjectNode root = json.createObjectNode();
        ServerState state = host.state();
        root.put("state", host.ready() ? "ready" : "not_ready");
        root.put("server_state", state.name());
        root.put("mosn_state", state.mosnStage);
        root.put("mosn_state_name", state.mosnStageName);
        root.put("health_check_failed", host.healthCheckFailed());
        ArrayNode failing = root.putArray("failing_readiness_checks");
        host.failingReadinessChecks().forEach(failing::add);
        root.put("pid", ProcessHandle.current().pid());
        root.put("uptime_seconds", java.time.Duration.between(host.startedAt(), java.time.Instant.now()).toSeconds());
        root.put("transport", Transport.get().name());
        root.put("java", Runtime.version().toString());
        ConfigSnapshot s = config.current();
        root.put("config_version", s == null ? 0 : s.version());
        var mem = ManagementFactory.getMemoryMXBean();
        root.put("heap_used_bytes", mem.getHeapMemoryUsage().getUsed());
        ArrayNode ls = root.putArray("listeners");
        for (ListenerSlot slot : listeners.slots()) {
            ObjectNode l = ls.addObject();
            l.put("name", slot.name());
            l.put("address", String.valueOf(slot.serverChannel() == null ? null : slot.serverChannel().localAddress()));
            l.put("protocol", slot.spec().protocol());
            l.put("direction", slot.spec().direction().name().toLowerCase(Locale.ROOT));
            l.put("connections", slot.connections().size());
            l.put("accepting", slot.serverChannel() != null && slot.serverChannel().isOpen());
        }
        ArrayNode cs = root.putArray("clusters");
        if (s != null) {
            long now = System.nanoTime();
            for (Cluster c : s.clusters().values()) {
                ObjectNode co = cs.addObject();
                co.put("name", c.name());
                co.put("lb_policy", c.lbPolicy());
                ArrayNode hs = co.putArray("hosts");
                for (Host h : c.hosts()) {
                    ObjectNode ho = hs.addObject();
                    ho.put("address", h.address());
                    ho.put("weight", h.weight());
                    ho.put("available", h.available(now));
                    ho.set("labels", json.valueToTree(h.labels()));
                }
            }
        }
        return root;
    }
}
