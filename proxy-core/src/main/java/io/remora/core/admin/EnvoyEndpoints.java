package io.remora.core.admin;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.OutlierPolicy;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import io.remora.core.digest.DigestLog;
import io.remora.core.proxy.ListenerSlot;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Envoy's admin paths ({@code source/server/admin}) with Envoy's parameters, formats and status codes, built from our
 * snapshot, meters and listeners: ready, stats (text, JSON, Prometheus), config_dump, clusters, server_info,
 * listeners, logging, healthcheck fail/ok, drain_listeners and help. Mutating paths take POST only (405 otherwise).
 */
final class EnvoyEndpoints {

    /** Envoy's (spdlog's) level names, lowest first. */
    static final List<String> LEVELS = List.of("trace", "debug", "info", "warning", "error", "critical", "off");
    private static final long UNLIMITED = 4294967295L;

    private final ObjectMapper json = ConfigLoader.newMapper();
    private final AdminHost host;
    private final EnvoyConfigDump configDump;

    EnvoyEndpoints(AdminHost host) {
        this.host = host;
        this.configDump = new EnvoyConfigDump(json, host);
    }

    void registerOn(AdminRoutes routes) {
        routes.register("GET", "/ready", "print server state, return 200 if LIVE, otherwise return 503",
                r -> {
                    ServerState s = host.state();
                    return new AdminResponse(s == ServerState.LIVE ? 200 : 503, AdminResponse.TEXT, s.name() + "\n");
                });
        routes.register("GET", "/stats", "print server stats; ?filter=<regex> ?usedonly ?type= "
                + "?format=json|prometheus|text", this::stats);
        routes.register("GET", "/stats/prometheus", "print server stats in prometheus format; ?filter=<regex>",
                this::prometheus);
        routes.register("GET", "/config_dump", "dump current configs as envoy.admin.v3.ConfigDump; ?resource= "
                + "?mask= ?name_regex= ?include_eds", this::configDump);
        routes.register("GET", "/clusters", "upstream cluster status; ?format=json", this::clusters);
        routes.register("GET", "/server_info", "print server version/status information", this::serverInfo);
        routes.register("GET", "/listeners", "print listener info; ?format=json", this::listeners);
        routes.register("GET", "/logging", "list logging levels (POST ?level=<level> or ?<logger>=<level> "
                + "changes them)", this::logging);
        routes.register("POST", "/logging", this::logging);
        routes.register("POST", "/healthcheck/fail", "cause the server to fail health checks", r -> {
            host.failHealthCheck(true);
            return AdminResponse.text("OK\n");
        });
        routes.register("POST", "/healthcheck/ok", "cause the server to pass health checks", r -> {
            host.failHealthCheck(false);
            return AdminResponse.text("OK\n");
        });
        routes.register("POST", "/drain_listeners", "stop accepting on listeners; ?inboundonly ?graceful",
                this::drainListeners);
        routes.register("GET", "/help", "print out list of admin commands", r -> AdminResponse.text(help()));
    }

    // ---------------------------------------------------------------- stats

    private AdminResponse stats(AdminRequest r) throws Exception {
        String format = r.param("format", "text");
        Pattern filter = filter(r);
        boolean usedOnly = r.query().containsKey("usedonly");
        String type = r.param("type", "All");
        if (!Set.of("All", "Counters", "Gauges", "Histograms", "TextReadouts").contains(type)) {
            return AdminResponse.error(400, "invalid &type= param");
        }
        String hidden = r.param("hidden", "");
        if (!hidden.isEmpty() && !Set.of("include", "only", "exclude").contains(hidden)) {
            return AdminResponse.error(400, "usage: /stats?hidden=(include|only|exclude)");
        }
        String buckets = r.param("histogram_buckets", "summary");
        if (!buckets.isEmpty() && !buckets.equals("summary")) {
            return AdminResponse.error(400, "histogram_buckets=" + buckets + " is not supported: Remora reports "
                    + "histogram quantiles only (summary)");
        }
        switch (format) {
            case "prometheus":
                return prometheus(r);
            case "text":
            case "json":
                break;
            default:
                return AdminResponse.error(400, "usage: /stats?format=(json|prometheus|text)");
        }
        List<MeterView.Stat> plain = new ArrayList<>();
        List<MeterView.Stat> histograms = new ArrayList<>();
        boolean onlyHidden = hidden.equals("only"); // Remora has no hidden stats
        if (!onlyHidden) {
            for (MeterView.Stat s : allStats()) {
                if ((filter != null && !filter.matcher(s.flatName()).find()) || (usedOnly && !s.used())) {
                    continue;
                }
                boolean wanted = switch (type) {
                    case "Counters" -> s.kind() == MeterView.Kind.COUNTER;
                    case "Gauges" -> s.kind() == MeterView.Kind.GAUGE;
                    case "Histograms" -> s.kind() == MeterView.Kind.HISTOGRAM;
                    case "TextReadouts" -> false;
                    default -> true;
                };
                if (wanted) {
                    (s.kind() == MeterView.Kind.HISTOGRAM ? histograms : plain).add(s);
                }
            }
        }
        plain.sort(java.util.Comparator.comparing(MeterView.Stat::flatName));
        return format.equals("json") ? AdminResponse.json(statsJson(plain, histograms))
                : AdminResponse.text(statsText(plain, histograms));
    }

    private static Pattern filter(AdminRequest r) {
        String f = r.param("filter", "");
        if (f.isEmpty()) {
            return null;
        }
        try {
            return Pattern.compile(f);
        } catch (PatternSyntaxException e) {
            throw new IllegalArgumentException("Invalid re2 regex");
        }
    }

    /** Our meters plus the Envoy server stats tools rely on (server.state, workers_started, ...) and plugins' stats. */
    private List<MeterView.Stat> allStats() {
        List<MeterView.Stat> out = new ArrayList<>(MeterView.of(host.metrics()));
        ServerState state = host.state();
        ConfigSnapshot s = host.config().current();
        Map<String, Long> server = new LinkedHashMap<>();
        server.put("server.state", (long) state.envoyValue);
        server.put("server.live", state == ServerState.LIVE ? 1L : 0L);
        server.put("server.uptime", Duration.between(host.startedAt(), Instant.now()).toSeconds());
        server.put("server.concurrency", (long) host.startOptions().concurrency());
        server.put("server.total_connections", (long) host.listeners().openConnections());
        server.put("listener_manager.workers_started", host.listeners().serving() ? 1L : 0L);
        server.put("listener_manager.total_listeners_active", host.listeners().slots().stream()
                .filter(l -> l.serverChannel() != null && l.serverChannel().isOpen()).count());
        server.put("cluster_manager.active_clusters", s == null ? 0L : (long) s.clusters().size());
        server.putAll(host.adminServer().contributedStats());
        server.forEach((k, v) -> out.add(new MeterView.Stat(k, List.of(), MeterView.Kind.GAUGE, v, null, false)));
        return out;
    }

    private static String statsText(List<MeterView.Stat> plain, List<MeterView.Stat> histograms) {
        StringBuilder sb = new StringBuilder();
        for (MeterView.Stat s : plain) {
            sb.append(s.flatName()).append(": ").append(MeterView.number(s.value())).append('\n');
        }
        for (MeterView.Stat s : histograms) {
            sb.append(s.flatName()).append(": ");
            if (s.value() == 0) {
                sb.append("No recorded values\n");
                continue;
            }
            for (int i = 0; i < MeterView.QUANTILES.length; i++) {
                double q = MeterView.QUANTILES[i];
                // interval: Remora keeps no per-interval histograms, Envoy prints nan for an empty interval
                sb.append(i == 0 ? "" : " ").append('P').append(MeterView.number(q * 100)).append("(nan,")
                        .append(MeterView.number(s.quantile(q))).append(')');
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private String statsJson(List<MeterView.Stat> plain, List<MeterView.Stat> histograms) throws Exception {
        ObjectNode root = json.createObjectNode();
        ArrayNode stats = root.putArray("stats");
        for (MeterView.Stat s : plain) {
            ObjectNode o = stats.addObject().put("name", s.flatName());
            putNumber(o, "value", s.value());
        }
        if (!histograms.isEmpty()) {
            ObjectNode h = stats.addObject().putObject("histograms");
            ArrayNode supported = h.putArray("supported_quantiles");
            for (double q : MeterView.QUANTILES) {
                putNumber(supported, q * 100);
            }
            ArrayNode computed = h.putArray("computed_quantiles");
            for (MeterView.Stat s : histograms) {
                ArrayNode values = computed.addObject().put("name", s.flatName()).putArray("values");
                for (double q : MeterView.QUANTILES) {
                    ObjectNode v = values.addObject();
                    v.putNull("interval");
                    double c = s.quantile(q);
                    if (Double.isNaN(c)) {
                        v.putNull("cumulative");
                    } else {
                        putNumber(v, "cumulative", c);
                    }
                }
            }
        }
        return json.writeValueAsString(root);
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (v == Math.rint(v) && Math.abs(v) < 9.0e15) {
            o.put(field, (long) v);
        } else {
            o.put(field, v);
        }
    }

    private static void putNumber(ArrayNode a, double v) {
        if (v == Math.rint(v) && Math.abs(v) < 9.0e15) {
            a.add((long) v);
        } else {
            a.add(v);
        }
    }

    /** The Prometheus scrape; {@code filter} keeps the metric families whose name it finds a match in. */
    private AdminResponse prometheus(AdminRequest r) {
        Pattern filter = filter(r);
        String scrape = host.metrics().scrape();
        if (filter != null) {
            StringBuilder out = new StringBuilder();
            StringBuilder block = new StringBuilder();
            String family = null;
            for (String line : scrape.split("\n", -1)) {
                if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                    String name = line.substring(7).split(" ", 2)[0];
                    if (!name.equals(family)) {
                        flush(out, block, family, filter);
                        family = name;
                    }
                } else if (family == null && !line.isEmpty() && !line.startsWith("#")) {
                    family = line.split("[{ ]", 2)[0];
                }
                if (!line.isEmpty()) {
                    block.append(line).append('\n');
                }
            }
            flush(out, block, family, filter);
            scrape = out.toString();
        }
        return new AdminResponse(200, "text/plain; version=0.0.4; charset=utf-8", scrape);
    }

    private static void flush(StringBuilder out, StringBuilder block, String family, Pattern filter) {
        if (family != null && filter.matcher(family).find()) {
            out.append(block);
        }
        block.setLength(0);
    }

    // ---------------------------------------------------------------- config_dump

    private AdminResponse configDump(AdminRequest r) throws Exception {
        String resource = r.param("resource", "");
        String mask = r.param("mask", "");
        String nameRegex = r.param("name_regex", "");
        boolean includeEds = r.query().containsKey("include_eds");
        Pattern names = null;
        if (!nameRegex.isEmpty()) {
            try {
                names = Pattern.compile(nameRegex);
            } catch (PatternSyntaxException e) {
                return AdminResponse.error(400, "Error while parsing name_regex from URL: " + e.getDescription());
            }
        }
        ObjectNode out;
        if (!resource.isEmpty()) {
            out = configDump.resource(resource, includeEds, names);
            if (!mask.isEmpty()) {
                out.get("configs").forEach(c -> EnvoyConfigDump.mask(c, mask));
            }
        } else {
            out = configDump.dump(includeEds);
            if (names != null) {
                EnvoyConfigDump.filterNames(out, names);
            }
            if (!mask.isEmpty()) {
                out.get("configs").forEach(c -> EnvoyConfigDump.mask(c, mask));
            }
        }
        return AdminResponse.json(json.writeValueAsString(out));
    }

    // ---------------------------------------------------------------- clusters

    private AdminResponse clusters(AdminRequest r) throws Exception {
        String format = r.param("format", "text");
        ConfigSnapshot s = host.config().current();
        List<Cluster> clusters = s == null ? List.of() : List.copyOf(s.clusters().values());
        Map<String, Map<String, Double>> hostStats = hostStats();
        return switch (format) {
            case "json" -> AdminResponse.json(clustersJson(s, clusters, hostStats));
            case "text" -> AdminResponse.text(clustersText(s, clusters, hostStats));
            default -> AdminResponse.error(400, "usage: /clusters?format=(json|text)");
        };
    }

    /** Per "cluster|host": cx_total, cx_connect_fail, cx_active from the upstream connection meters. */
    private Map<String, Map<String, Double>> hostStats() {
        Map<String, Map<String, Double>> m = new TreeMap<>();
        for (MeterView.Stat st : MeterView.of(host.metrics())) {
            String stat = switch (st.name()) {
                case "remora_upstream_connections_opened" -> "cx_total";
                case "remora_upstream_connections_closed" -> "cx_closed";
                case "remora_upstream_connect_failures" -> "cx_connect_fail";
                default -> null;
            };
            if (stat != null && st.tag("cluster") != null && st.tag("host") != null) {
                m.computeIfAbsent(st.tag("cluster") + "|" + st.tag("host"), k -> new TreeMap<>())
                        .merge(stat, st.value(), Double::sum);
            }
        }
        return m;
    }

    /** Envoy's per-host counters and gauges, sorted by name as Envoy prints them. */
    private static Map<String, Long> hostCounters(Cluster c, Host h, Map<String, Map<String, Double>> hostStats) {
        Map<String, Double> cx = hostStats.getOrDefault(c.name() + "|" + h.address(), Map.of());
        Map<String, Long> m = new TreeMap<>();
        long total = cx.getOrDefault("cx_total", 0.0).longValue();
        m.put("cx_active", Math.max(0, total - cx.getOrDefault("cx_closed", 0.0).longValue()));
        m.put("cx_connect_fail", cx.getOrDefault("cx_connect_fail", 0.0).longValue());
        m.put("cx_total", total);
        m.put("rq_active", (long) h.activeRequests());
        m.put("rq_error", h.failureCount());
        m.put("rq_success", Math.max(0, h.requestCount() - h.failureCount()));
        m.put("rq_total", h.requestCount());
        return m;
    }

    private static String healthFlags(Host h) {
        StringBuilder sb = new StringBuilder();
        if (h.failedHealthCheck()) {
            sb.append("/failed_active_hc");
        }
        if (h.ejected()) {
            sb.append("/failed_outlier_check");
        }
        return sb.isEmpty() ? "healthy" : sb.toString();
    }

    private static double successRate(Host h) {
        long req = h.requestCount();
        return req == 0 ? -1 : 100.0 * (req - h.failureCount()) / req;
    }

    private boolean addedViaApi(String cluster) {
        SidecarConfig initial = host.initialConfig();
        ConfigSnapshot s = host.config().current();
        if (initial == null || s == null || s.source().clusters() == null) {
            return false;
        }
        for (SidecarConfig.Cluster c : s.source().clusters()) {
            if (c.name().equals(cluster)) {
                return initial.clusters() == null || !initial.clusters().contains(c);
            }
        }
        return false;
    }

    private String clustersText(ConfigSnapshot s, List<Cluster> clusters, Map<String, Map<String, Double>> stats) {
        StringBuilder sb = new StringBuilder();
        for (Cluster c : clusters) {
            String n = c.name();
            sb.append(n).append("::observability_name::").append(n).append('\n');
            OutlierPolicy op = c.outlier();
            if (op != null) {
                sb.append(n).append("::outlier::success_rate_average::").append(MeterView.number(average(c)))
                        .append('\n');
                sb.append(n).append("::outlier::success_rate_ejection_threshold::")
                        .append(MeterView.number(Math.max(0, 100 - op.limit() * 100))).append('\n');
                sb.append(n).append("::outlier::local_origin_success_rate_average::-1\n");
                sb.append(n).append("::outlier::local_origin_success_rate_ejection_threshold::-1\n");
            }
            for (String priority : new String[] {"default", "high"}) {
                sb.append(n).append("::").append(priority).append("_priority::max_connections::").append(UNLIMITED)
                        .append('\n');
                sb.append(n).append("::").append(priority).append("_priority::max_pending_requests::")
                        .append(c.maxPendingRequests()).append('\n');
                sb.append(n).append("::").append(priority).append("_priority::max_requests::")
                        .append(c.maxPendingRequests()).append('\n');
                sb.append(n).append("::").append(priority).append("_priority::max_retries::").append(UNLIMITED)
                        .append('\n');
            }
            sb.append(n).append("::added_via_api::").append(addedViaApi(n)).append('\n');
            for (Host h : c.hosts()) {
                String p = n + "::" + h.address() + "::";
                hostCounters(c, h, stats).forEach((k, v) -> sb.append(p).append(k).append("::").append(v).append('\n'));
                sb.append(p).append("hostname::\n");
                sb.append(p).append("health_flags::").append(healthFlags(h)).append('\n');
                sb.append(p).append("weight::").append(h.weight()).append('\n');
                sb.append(p).append("region::").append(labels(h).getOrDefault("region", "")).append('\n');
                sb.append(p).append("zone::").append(labels(h).getOrDefault("zone", "")).append('\n');
                sb.append(p).append("sub_zone::").append(labels(h).getOrDefault("sub_zone", "")).append('\n');
                sb.append(p).append("canary::false\n");
                sb.append(p).append("priority::0\n");
                sb.append(p).append("success_rate::").append(MeterView.number(successRate(h))).append('\n');
                sb.append(p).append("local_origin_success_rate::-1\n");
            }
        }
        return sb.toString();
    }

    private static Map<String, String> labels(Host h) {
        return h.labels() == null ? Map.of() : h.labels();
    }

    private static double average(Cluster c) {
        double sum = 0;
        int n = 0;
        for (Host h : c.hosts()) {
            double sr = successRate(h);
            if (sr >= 0) {
                sum += sr;
                n++;
            }
        }
        return n == 0 ? -1 : sum / n;
    }

    /** envoy.admin.v3.Clusters in protobuf JSON: uint64 as strings, zero values and false left out. */
    private String clustersJson(ConfigSnapshot s, List<Cluster> clusters, Map<String, Map<String, Double>> stats)
            throws Exception {
        ObjectNode root = json.createObjectNode();
        ArrayNode statuses = root.putArray("cluster_statuses");
        for (Cluster c : clusters) {
            ObjectNode co = statuses.addObject();
            co.put("name", c.name());
            co.put("observability_name", c.name());
            ArrayNode thresholds = co.putObject("circuit_breakers").putArray("thresholds");
            for (String priority : new String[] {null, "HIGH"}) {
                ObjectNode t = thresholds.addObject();
                if (priority != null) {
                    t.put("priority", priority);
                }
                t.put("max_connections", UNLIMITED);
                t.put("max_pending_requests", c.maxPendingRequests());
                t.put("max_requests", c.maxPendingRequests());
                t.put("max_retries", UNLIMITED);
            }
            if (c.outlier() != null) {
                co.putObject("success_rate_ejection_threshold").put("value",
                        Math.max(0, 100 - c.outlier().limit() * 100));
            }
            if (addedViaApi(c.name())) {
                co.put("added_via_api", true);
            }
            ArrayNode hs = co.putArray("host_statuses");
            for (Host h : c.hosts()) {
                ObjectNode ho = hs.addObject();
                InetSocketAddress a = h.socketAddress();
                ho.putObject("address").putObject("socket_address")
                        .put("address", a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString())
                        .put("port_value", a.getPort());
                ArrayNode st = ho.putArray("stats");
                hostCounters(c, h, stats).forEach((k, v) -> {
                    ObjectNode m = st.addObject().put("name", k);
                    if (v != 0) {
                        m.put("value", Long.toString(v));
                    }
                    if (k.equals("cx_active") || k.equals("rq_active")) {
                        m.put("type", "GAUGE");
                    }
                });
                ObjectNode health = ho.putObject("health_status");
                if (h.failedHealthCheck()) {
                    health.put("failed_active_health_check", true);
                }
                if (h.ejected()) {
                    health.put("failed_outlier_check", true);
                }
                health.put("eds_health_status", "HEALTHY");
                double sr = successRate(h);
                if (sr >= 0) {
                    ho.putObject("success_rate").put("value", sr);
                }
                ho.put("weight", h.weight());
                ObjectNode locality = json.createObjectNode();
                for (String k : new String[] {"region", "zone", "sub_zone"}) {
                    if (labels(h).containsKey(k)) {
                        locality.put(k, labels(h).get(k));
                    }
                }
                if (!locality.isEmpty()) {
                    ho.set("locality", locality);
                }
            }
        }
        return json.writeValueAsString(root);
    }

    // ---------------------------------------------------------------- server_info, listeners

    private AdminResponse serverInfo(AdminRequest r) throws Exception {
        AdminHost.StartOptions o = host.startOptions();
        ObjectNode root = json.createObjectNode();
        root.put("version", "remora/" + o.version() + "/Clean/RELEASE/Java-" + Runtime.version().feature());
        root.put("state", host.state().name());
        root.put("hot_restart_version", "disabled");
        ObjectNode cl = root.putObject("command_line_options");
        SidecarConfig.Node node = host.initialConfig() == null ? null : host.initialConfig().node();
        cl.put("base_id", "0");
        cl.put("concurrency", o.concurrency());
        cl.put("config_path", o.configPath() == null ? "" : o.configPath());
        cl.put("config_yaml", "");
        cl.put("allow_unknown_static_fields", false);
        cl.put("reject_unknown_dynamic_fields", true);
        cl.put("admin_address_path", "");
        cl.put("local_address_ip_version", "v4");
        cl.put("log_level", envoyLevel(host.logs().levels().getOrDefault("", "ERROR")));
        cl.put("component_log_level", "");
        cl.put("log_format", "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger{24} - %msg%n");
        cl.put("log_path", o.logDir() == null ? "" : o.logDir().resolve("default.log").toString());
        cl.put("service_cluster", node == null || node.cluster() == null ? "" : node.cluster());
        cl.put("service_node", node == null || node.id() == null ? "" : node.id());
        cl.put("service_zone", node == null || node.labels() == null ? "" : node.labels().getOrDefault("zone", ""));
        cl.put("drain_strategy", "Gradual");
        cl.put("mode", "Serve");
        cl.put("disable_hot_restart", true);
        cl.put("enable_mutex_tracing", false);
        cl.put("restart_epoch", o.upgrade() ? 1 : 0);
        cl.put("cpuset_threads", false);
        cl.putArray("disabled_extensions");
        cl.put("file_flush_interval", "0.050s");
        cl.put("drain_time", Durations.proto(o.drainTimeout().toMillis()));
        cl.put("parent_shutdown_time", Durations.proto(o.drainTimeout().toMillis()));
        root.set("node", configDump.nodeOfRunningConfig());
        String uptime = Duration.between(host.startedAt(), Instant.now()).toSeconds() + "s";
        root.put("uptime_current_epoch", uptime);
        root.put("uptime_all_epochs", uptime);
        CoreAdminEndpoints.redact(root);
        return AdminResponse.json(json.writeValueAsString(root));
    }

    private AdminResponse listeners(AdminRequest r) throws Exception {
        String format = r.param("format", "text");
        if (!format.equals("text") && !format.equals("json")) {
            return AdminResponse.error(400, "usage: /listeners?format=(json|text)");
        }
        StringBuilder text = new StringBuilder();
        ObjectNode root = json.createObjectNode();
        ArrayNode statuses = root.putArray("listener_statuses");
        for (ListenerSlot slot : host.listeners().slots()) {
            InetSocketAddress a = host.listeners().boundAddress(slot.name());
            if (a == null) {
                a = slot.spec().address();
            }
            String ip = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
            text.append(slot.name()).append("::").append(ip.contains(":") ? "[" + ip + "]" : ip).append(':')
                    .append(a.getPort()).append('\n');
            statuses.addObject().put("name", slot.name()).putObject("local_address").putObject("socket_address")
                    .put("address", ip).put("port_value", a.getPort());
        }
        return format.equals("json") ? AdminResponse.json(json.writeValueAsString(root))
                : AdminResponse.text(text.toString());
    }

    // ---------------------------------------------------------------- logging

    /** Log files Envoy's /logging names: the bare file name without {@code .log}; digests are access logs, left out. */
    private Map<String, String> loggers() {
        Map<String, String> byName = new TreeMap<>();
        Path dir = host.logs().dir();
        for (String path : host.logs().levels().keySet()) {
            if (path.isEmpty()) {
                continue;
            }
            String file = Path.of(path).getFileName().toString();
            if (file.equals(DigestLog.CLIENT_FILE) || file.equals(DigestLog.SERVER_FILE)) {
                continue;
            }
            String name = Path.of(path).getParent() != null && Path.of(path).getParent().equals(dir)
                    ? file.replaceFirst("\\.log$", "") : path;
            byName.put(name, path);
        }
        return byName;
    }

    private AdminResponse logging(AdminRequest r) {
        Map<String, List<String>> params = new LinkedHashMap<>(r.query());
        // Envoy's HTML form sends empty level= and paths=: they mean "not set"
        params.entrySet().removeIf(e -> (e.getKey().equals("level") || e.getKey().equals("paths"))
                && (e.getValue().isEmpty() || e.getValue().get(0).isEmpty()));
        if (!params.isEmpty() && !r.method().equals("POST")) {
            return AdminServer.methodNotAllowed(r.method(), r.path(), Set.of("POST"));
        }
        String error = params.isEmpty() ? null : changeLevels(params);
        StringBuilder sb = new StringBuilder();
        if (error != null) {
            sb.append("error: ").append(error).append("\n\n");
            sb.append("usage: /logging?<name>=<level> (change single level)\n");
            sb.append("usage: /logging?paths=name1:level1,name2:level2,... (change multiple levels)\n");
            sb.append("usage: /logging?level=<level> (change all levels)\n");
            sb.append("levels: ");
            LEVELS.forEach(l -> sb.append(l).append(' '));
            sb.append('\n');
        }
        sb.append("active loggers:\n");
        Map<String, String> levels = host.logs().levels();
        loggers().forEach((name, path) -> sb.append("  ").append(name).append(": ")
                .append(host.logs().enabled(path) ? envoyLevel(levels.get(path)) : "off").append('\n'));
        sb.append('\n');
        return new AdminResponse(error == null ? 200 : 400, AdminResponse.TEXT, sb.toString());
    }

    /** Applies the change, or returns Envoy's error message without changing anything. */
    private String changeLevels(Map<String, List<String>> params) {
        if (params.size() != 1) {
            return "invalid number of parameters";
        }
        Map<String, String> loggers = loggers();
        Map<String, String> changes = new LinkedHashMap<>();
        String key = params.keySet().iterator().next();
        String value = params.get(key).isEmpty() ? "" : params.get(key).get(0);
        if (key.equals("level")) {
            if (!validLevel(value)) {
                return "unknown logger level";
            }
            loggers.values().forEach(p -> changes.put(p, value));
        } else if (key.equals("paths")) {
            for (String pair : value.split(",")) {
                if (pair.isBlank()) {
                    continue;
                }
                String[] nl = pair.split(":", 2);
                if (nl.length != 2 || nl[0].isBlank() || nl[1].isBlank()) {
                    return "empty logger name or empty logger level";
                }
                String level = nl[1].strip();
                if (!validLevel(level)) {
                    return "unknown logger level";
                }
                String path = loggers.get(nl[0].strip());
                if (path == null) {
                    return "unknown logger name";
                }
                changes.put(path, level);
            }
        } else {
            if (!validLevel(value)) {
                return "unknown logger level";
            }
            String path = loggers.get(key);
            if (path == null) {
                return "unknown logger name";
            }
            changes.put(path, value);
        }
        changes.forEach((path, level) -> {
            if (level.equals("off")) {
                host.logs().setEnabled(path, false);
            } else {
                host.logs().update(path, ourLevel(level));
                host.logs().setEnabled(path, true);
            }
        });
        return null;
    }

    /** Envoy's names, and {@code warn} (Envoy's docs and spdlog's short name). */
    private static boolean validLevel(String level) {
        return LEVELS.contains(level) || level.equals("warn");
    }

    static String envoyLevel(String ours) {
        if (ours == null) {
            return "info";
        }
        return switch (ours.toUpperCase(Locale.ROOT)) {
            case "TRACE" -> "trace";
            case "DEBUG" -> "debug";
            case "INFO" -> "info";
            case "WARN" -> "warning";
            case "FATAL" -> "critical";
            case "OFF" -> "off";
            default -> "error";
        };
    }

    private static String ourLevel(String envoy) {
        return switch (envoy) {
            case "trace" -> "TRACE";
            case "debug" -> "DEBUG";
            case "info" -> "INFO";
            case "warning", "warn" -> "WARN";
            case "critical" -> "FATAL";
            default -> "ERROR";
        };
    }

    // ---------------------------------------------------------------- drain, help

    private AdminResponse drainListeners(AdminRequest r) {
        boolean inboundOnly = r.query().containsKey("inboundonly");
        boolean graceful = r.query().containsKey("graceful");
        // skip_exit: Remora never exits on drain_listeners, so it is accepted and changes nothing
        host.stopListeners(inboundOnly, graceful);
        return AdminResponse.text("OK\n");
    }

    private String help() {
        StringBuilder sb = new StringBuilder("admin commands are:\n");
        host.adminServer().paths().forEach((path, methods) -> {
            String text = host.adminServer().help(path);
            sb.append("  ").append(path).append(": ").append(text == null ? "(no description)" : text)
                    .append(" [").append(String.join(", ", methods)).append("]\n");
        });
        return sb.toString();
    }
}
