package io.remora.core.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * MOSN's admin API ({@code pkg/admin/server/apis.go}) with MOSN's parameters and response shapes, mapped onto our
 * sidecar: config dump, stats, stats_glob, log switches, states, plugin, features, env, version and the help page.
 * {@code get_loglevel} / {@code update_loglevel} keep their long-standing behaviour in {@link CoreAdminEndpoints}.
 * Where a MOSN path already had a Remora format, the Remora format stays the default (see docs/admin.md).
 */
final class MosnEndpoints {

    /** MOSN's known feature gates; we implement none of them, so they read false. */
    static final List<String> MOSN_GATES = List.of("XdsMtlsEnable", "PayLoadLimitEnable", "MultiTenantMode",
            "auto_config");
    private static final String ERROR_FORMAT = "{\n\t\"error\": \"%s\"\n}\n";

    private final ObjectMapper json = ConfigLoader.newMapper();
    private final AdminHost host;
    private final CoreAdminEndpoints core;
    private final MosnConfigView view;

    MosnEndpoints(AdminHost host, CoreAdminEndpoints core) {
        this.host = host;
        this.core = core;
        this.view = new MosnConfigView(json, host);
    }

    void registerOn(AdminRoutes routes) {
        routes.register("GET", "/api/v1/config_dump", "running config (Remora and MOSN shapes, secrets redacted); "
                + "one of ?mosnconfig ?alllisteners ?allrouters ?allclusters ?listener= ?router= ?cluster=",
                this::configDump);
        routes.register("GET", "/api/v1/stats", "MOSN console stats {type:{namespace:{key:value}}}; ?key=<type.ns>; "
                + "?prefix= for Remora's meter list", this::stats);
        routes.register("GET", "/api/v1/stats_glob", "MOSN downstream.proxy.global totals, key:value lines",
                r -> AdminResponse.text(statsGlob()));
        routes.register("POST", "/api/v1/enable_log", "body: a log path as listed by get_loglevel",
                r -> toggle(r, true));
        routes.register("POST", "/api/v1/disable_log", "body: a log path as listed by get_loglevel",
                r -> toggle(r, false));
        routes.register("GET", "/api/v1/states", "state, pid, listeners, clusters (JSON); ?format=mosn for "
                + "MOSN's pid=<pid>&state=<n>", this::states);
        routes.register("GET", "/api/v1/plugin", "?status=all|<name> (GET); ?enable=<name> ?disable=<name> (POST)",
                this::plugin);
        routes.register("POST", "/api/v1/plugin", this::plugin);
        routes.register("GET", "/api/v1/features", "feature switches {name:bool}; ?key=<name> answers true|false",
                this::features);
        routes.register("GET", "/api/v1/env", "?key=<name>[&key=..] environment and node metadata (secrets "
                + "redacted)", this::env);
        routes.register("GET", "/api/v1/version", "mosn version: <version>",
                r -> AdminResponse.text("mosn version: " + host.startOptions().version()));
        routes.register("GET", "/", "MOSN's help: supported APIs", r -> AdminResponse.text(supportedApis()));
    }

    // ---------------------------------------------------------------- config_dump

    private AdminResponse configDump(AdminRequest r) throws Exception {
        if (r.query().isEmpty() || r.query().containsKey("allconfig") && r.query().size() == 1) {
            // Remora's keys (version, applied_at, source, config) and MOSN's effectiveConfig keys do not collide
            ObjectNode root = core.configDump();
            ConfigSnapshot s = host.config().current();
            if (s != null) {
                ObjectNode mosn = view.effectiveConfig(s);
                CoreAdminEndpoints.redact(mosn);
                root.setAll(mosn);
            }
            return AdminResponse.json(json.writeValueAsString(root));
        }
        if (r.query().size() > 1) {
            return AdminResponse.error(400, "only support one parameter");
        }
        ConfigSnapshot s = host.config().current();
        if (s == null) {
            return AdminResponse.error(503, "no config applied yet");
        }
        String key = r.query().keySet().iterator().next();
        String value = r.param(key, "");
        JsonNode out = switch (key) {
            case "mosnconfig" -> view.mosnConfig(s);
            case "allrouters" -> view.routers(s.source());
            case "allclusters" -> view.clusters(s.source());
            case "alllisteners" -> view.listeners(s.source());
            case "router" -> one(view.routers(s.source()), "router", value);
            case "cluster" -> one(view.clusters(s.source()), "cluster", value);
            case "listener" -> one(view.listeners(s.source()), "listener", value);
            default -> throw new IllegalArgumentException("unknown config_dump parameter \"" + key + "\" (one of "
                    + "mosnconfig, allconfig, allrouters, allclusters, alllisteners, router=<name>, cluster=<name>, "
                    + "listener=<name>)");
        };
        CoreAdminEndpoints.redact(out);
        return AdminResponse.json(json.writeValueAsString(out));
    }

    private static JsonNode one(ObjectNode byName, String kind, String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException(kind + "= needs a name (known: " + names(byName) + ")");
        }
        JsonNode n = byName.get(name);
        if (n == null) {
            throw new AdminProblem(404, "no " + kind + " \"" + name + "\" (known: " + names(byName) + ")");
        }
        return n;
    }

    private static List<String> names(ObjectNode byName) {
        List<String> l = new ArrayList<>();
        byName.fieldNames().forEachRemaining(l::add);
        return l;
    }

    // ---------------------------------------------------------------- stats

    private AdminResponse stats(AdminRequest r) throws Exception {
        if (r.query().containsKey("prefix")) {
            if (r.query().size() > 1) {
                return AdminResponse.error(400, "only support one parameter");
            }
            return AdminResponse.json(core.stats(r.param("prefix", "")));
        }
        Map<String, Map<String, Map<String, String>>> all = consoleStats();
        if (r.query().isEmpty()) {
            return AdminResponse.json(json.writeValueAsString(all));
        }
        if (r.query().size() > 1) {
            return AdminResponse.error(400, "only support one parameter");
        }
        if (!r.query().containsKey("key")) {
            return AdminResponse.error(400, "unknown stats parameter \"" + r.query().keySet().iterator().next()
                    + "\" (key=<type.namespace>, or prefix=<meter name prefix>)");
        }
        String key = r.param("key", "");
        for (Map.Entry<String, Map<String, Map<String, String>>> type : all.entrySet()) {
            for (Map.Entry<String, Map<String, String>> ns : type.getValue().entrySet()) {
                String full = type.getKey() + "." + ns.getKey();
                if (full.equals(key)) {
                    return AdminResponse.json(json.writeValueAsString(
                            Map.of(type.getKey(), Map.of(ns.getKey(), ns.getValue()))));
                }
            }
        }
        return AdminResponse.error(404, "no metrics key: " + key);
    }

    /**
     * MOSN's console sink: type -> namespace -> key -> value (strings). Type is the meter family ({@code downstream},
     * {@code upstream}, {@code governance}, {@code process}, {@code jvm}, ...), the namespace its tags as
     * {@code k.v} joined by dots (MOSN's makeNamespace), the key the rest of the name; histograms give
     * {@code _count}, {@code _sum} and {@code _max} (ms for durations).
     */
    Map<String, Map<String, Map<String, String>>> consoleStats() {
        Map<String, Map<String, Map<String, String>>> all = new TreeMap<>();
        for (MeterView.Stat s : MeterView.of(host.metrics())) {
            String name = s.name().startsWith("remora_") ? s.name().substring("remora_".length()) : s.name();
            int i = name.indexOf('_');
            String type = i < 0 ? name : name.substring(0, i);
            String key = i < 0 ? "value" : name.substring(i + 1);
            List<String> pairs = new ArrayList<>();
            s.tags().forEach(t -> pairs.add(t.getKey() + "." + t.getValue()));
            Map<String, String> ns = all.computeIfAbsent(type, k -> new TreeMap<>())
                    .computeIfAbsent(String.join(".", pairs), k -> new TreeMap<>());
            if (s.kind() == MeterView.Kind.HISTOGRAM) {
                ns.put(key + "_count", MeterView.number(s.value()));
                ns.put(key + "_sum", MeterView.number(s.sum()));
                ns.put(key + "_max", MeterView.number(s.max()));
            } else {
                ns.put(key, MeterView.number(s.value()));
            }
        }
        return all;
    }

    /** MOSN's downstream.proxy.global, from our per-listener meters summed. */
    private String statsGlob() {
        Map<String, Double> totals = new TreeMap<>();
        for (String k : List.of("connection_total", "connection_active", "bytes_read_total", "bytes_write_total",
                "request_total", "request_failed")) {
            totals.put(k, 0.0);
        }
        for (MeterView.Stat s : MeterView.of(host.metrics())) {
            String k = switch (s.name()) {
                case "remora_downstream_connections" -> "connection_total";
                case "remora_downstream_connections_active" -> "connection_active";
                case "remora_downstream_received" -> "bytes_read_total";
                case "remora_downstream_sent" -> "bytes_write_total";
                default -> null;
            };
            if (k != null) {
                totals.merge(k, s.value(), Double::sum);
            }
            if (s.name().equals("remora_downstream_requests")) {
                totals.merge("request_total", s.value(), Double::sum);
                String result = s.tag("result");
                if (result != null && Set.of("rpc_error", "timeout", "routing_failure").contains(result)) {
                    totals.merge("request_failed", s.value(), Double::sum);
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        totals.forEach((k, v) -> sb.append(k).append(':').append(MeterView.number(v)).append('\n'));
        return sb.toString();
    }

    // ---------------------------------------------------------------- logs

    private AdminResponse toggle(AdminRequest r, boolean enable) {
        String verb = enable ? "enable" : "disable";
        String path = r.body().strip();
        try {
            host.logs().setEnabled(path, enable);
        } catch (IllegalArgumentException e) {
            return mosnError(400, verb + " logger failed: " + e.getMessage());
        }
        return AdminResponse.text(verb + " logger success\n");
    }

    /** MOSN's error body {@code {"error": "..."}} (its errMsgFmt), as JSON. */
    private static AdminResponse mosnError(int status, String message) {
        String escaped = new String(com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance()
                .quoteAsString(message));
        return new AdminResponse(status, AdminResponse.JSON, String.format(ERROR_FORMAT, escaped));
    }

    // ---------------------------------------------------------------- states

    private AdminResponse states(AdminRequest r) throws Exception {
        String format = r.param("format", "json");
        return switch (format) {
            case "mosn" -> AdminResponse.text("pid=" + ProcessHandle.current().pid() + "&state="
                    + host.state().mosnStage + "\n");
            case "json" -> AdminResponse.json(json.writeValueAsString(core.states()));
            default -> AdminResponse.error(400, "unknown format \"" + format + "\" (json or mosn)");
        };
    }

    // ---------------------------------------------------------------- plugin

    private AdminResponse plugin(AdminRequest r) {
        List<AdminHost.Plugin> plugins = host.plugins();
        String enable = r.param("enable", "");
        String disable = r.param("disable", "");
        String status = r.param("status", "");
        if (!enable.isEmpty() || !disable.isEmpty()) {
            if (!r.method().equals("POST")) {
                return AdminServer.methodNotAllowed(r.method(), r.path(), Set.of("POST"));
            }
            String name = enable.isEmpty() ? disable : enable;
            if (find(plugins, name) == null) {
                return AdminResponse.error(404, "plugin " + name + " no register");
            }
            if (!enable.isEmpty()) {
                return AdminResponse.text("enable " + name + " success\n"); // loaded plugins are always on
            }
            return AdminResponse.error(400, "plugin " + name + " cannot be disabled at run time: Remora plugins "
                    + "run in-process (remove its jar, or turn its rules or listeners off in the config)");
        }
        if (r.method().equals("POST")) {
            return AdminServer.methodNotAllowed(r.method(), r.path(), Set.of("GET"));
        }
        if (!status.isEmpty()) {
            StringBuilder sb = new StringBuilder();
            if (status.equals("all")) {
                for (AdminHost.Plugin p : plugins) {
                    sb.append(statusLine(p)).append('\n');
                }
                return AdminResponse.text(sb.append('\n').toString());
            }
            AdminHost.Plugin p = find(plugins, status);
            if (p == null) {
                return AdminResponse.error(404, "plugin " + status + " no register");
            }
            return AdminResponse.text(statusLine(p) + "\n");
        }
        return new AdminResponse(400, AdminResponse.TEXT, """
                Usage:
                /plugin?status=all
                /plugin?status=pluginname
                /plugin?enable=pluginname
                /plugin?disable=pluginname
                """);
    }

    private static String statusLine(AdminHost.Plugin p) {
        return "name:" + p.name() + ",enable:true,on:true,kind:" + p.kind();
    }

    private static AdminHost.Plugin find(List<AdminHost.Plugin> plugins, String name) {
        for (AdminHost.Plugin p : plugins) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- features, env

    private AdminResponse features(AdminRequest r) throws Exception {
        Map<String, Boolean> known = new TreeMap<>(host.features());
        MOSN_GATES.forEach(g -> known.putIfAbsent(g, false));
        if (r.query().isEmpty()) {
            return AdminResponse.json(json.writeValueAsString(known));
        }
        if (!r.query().containsKey("key")) {
            return AdminResponse.error(400, "unknown features parameter \"" + r.query().keySet().iterator().next()
                    + "\" (key=<feature>)");
        }
        String key = r.param("key", "");
        Boolean on = known.get(key);
        if (on == null) {
            return AdminResponse.error(404, "unknown feature \"" + key + "\" (known: " + known.keySet() + ")");
        }
        return AdminResponse.text(on.toString());
    }

    private AdminResponse env(AdminRequest r) throws Exception {
        List<String> keys = r.query().get("key");
        if (keys == null || keys.isEmpty()) {
            return mosnError(400, "no env key");
        }
        Map<String, String> node = nodeMetadata();
        Map<String, String> found = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String k : keys) {
            String v = System.getenv(k);
            if (v == null) {
                v = node.get(k);
            }
            if (v == null) {
                missing.add(k);
            } else {
                found.put(k, CoreAdminEndpoints.isSecret(k) ? "[redacted]" : v);
            }
        }
        ObjectNode out = json.createObjectNode();
        out.set("env", json.valueToTree(found));
        // MOSN's struct tag is misspelt ("omityempty"), so not_found is always present: null when empty
        out.set("not_found", missing.isEmpty() ? null : json.valueToTree(missing));
        return AdminResponse.json(json.writeValueAsString(out));
    }

    /** The node section as env-like keys: node.id, node.app, node.cluster, node.labels.&lt;k&gt;. */
    private Map<String, String> nodeMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        ConfigSnapshot s = host.config().current();
        var n = s == null ? null : s.source().node();
        if (n == null) {
            return m;
        }
        if (n.id() != null) {
            m.put("node.id", n.id());
        }
        if (n.app() != null) {
            m.put("node.app", n.app());
        }
        if (n.cluster() != null) {
            m.put("node.cluster", n.cluster());
        }
        if (n.labels() != null) {
            n.labels().forEach((k, v) -> m.put("node.labels." + k, v));
        }
        return m;
    }

    private String supportedApis() {
        StringBuilder sb = new StringBuilder("supported APIs:\n");
        for (String p : host.adminServer().paths().keySet()) {
            if (!p.equals("/")) {
                sb.append(p).append('\n');
            }
        }
        return sb.toString();
    }
}
