package io.remora.injector.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The template's context for one pod: the config's values with the pod's override annotations applied, every
 * value checked (an annotation is user input: it must be a CPU quantity, a port list, an image reference, ...),
 * plus the values derived from the pod ({@code interception.enabled}, the inbound ports, {@code pod.*}).
 */
final class PodValues {

    static final Pattern QUANTITY = Pattern.compile("^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$");
    static final Pattern IMAGE = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$");
    static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
    static final Pattern IPV4_CIDR =
            Pattern.compile("^([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})(/([0-9]{1,2}))?$");
    static final Set<String> PULL_POLICIES = Set.of("Always", "IfNotPresent", "Never");
    /** remora-iptables' --outbound-ports uses iptables multiport: at most 15 ports. */
    static final int MAX_MULTIPORT = 15;

    private PodValues() {}

    /**
     * @param values    the config's values (not modified)
     * @param pod       the pod (or pod template) being injected
     * @param namespace the pod's namespace, or null when unknown (offline injection)
     */
    static ObjectNode resolve(ObjectNode values, JsonNode pod, String namespace) {
        ObjectNode ctx = values.deepCopy();
        JsonNode meta = pod.path("metadata");
        Overrides ann = new Overrides(meta.path("annotations"));

        ObjectNode icpt = objectAt(ctx, "interception");
        String mode = ann.get(Annotations.INTERCEPTION_MODE, text(icpt, "mode", "NONE"))
                .toUpperCase(Locale.ROOT);
        if (mode.equals("REDIRECT")) {
            throw new InjectionException("interception mode REDIRECT is not supported: use TPROXY or NONE");
        }
        if (!mode.equals("NONE") && !mode.equals("TPROXY")) {
            throw new InjectionException("interception mode " + quote(mode) + ": use TPROXY or NONE");
        }
        boolean tproxy = mode.equals("TPROXY");
        icpt.put("mode", mode);
        icpt.put("enabled", tproxy);

        String defaultImage = tproxy ? text(icpt, "image", null) : text(ctx, "image", null);
        String image = ann.get(Annotations.PROXY_IMAGE, defaultImage);
        checkImage(image, ann.source(Annotations.PROXY_IMAGE, tproxy ? "interception.image" : "image"));
        ctx.put("image", image);
        checkImage(text(icpt, "image", null), "interception.image");

        String pull = text(ctx, "imagePullPolicy", "IfNotPresent");
        if (!PULL_POLICIES.contains(pull)) {
            throw new InjectionException("imagePullPolicy " + quote(pull) + ": one of " + PULL_POLICIES);
        }
        ctx.put("imagePullPolicy", pull);

        String configMap = ann.get(Annotations.CONFIG_MAP, text(ctx, "configMap", null));
        if (configMap == null || configMap.length() > 253 || !DNS_SUBDOMAIN.matcher(configMap).matches()) {
            throw new InjectionException(ann.source(Annotations.CONFIG_MAP, "configMap") + " " + quote(configMap)
                    + " is not a ConfigMap name (DNS-1123 subdomain)");
        }
        ctx.put("configMap", configMap);

        String level = ann.get(Annotations.LOG_LEVEL, text(ctx, "logLevel", null));
        if (level == null || level.isEmpty()) ctx.putNull("logLevel");
        else ctx.put("logLevel", logLevel(level, ann.source(Annotations.LOG_LEVEL, "logLevel")));

        int adminPort = port(ctx.get("adminPort"), "adminPort");
        ctx.put("adminPort", adminPort);
        ctx.put("sidecarUid", intIn(ctx.get("sidecarUid"), "sidecarUid", 0, Integer.MAX_VALUE));
        ctx.put("drainTimeoutSeconds", intIn(ctx.get("drainTimeoutSeconds"), "drainTimeoutSeconds", 0, 3600));
        String logSize = text(ctx, "logVolumeSize", "512Mi");
        checkQuantity(logSize, "logVolumeSize");

        resources(ctx, ann);
        if (!icpt.path("resources").isObject()) throw new InjectionException("interception.resources must be a map");

        // Interception: port and range lists, each checked; an unset list is "" so the init container's flag/value
        // pairs stay aligned.
        String inbound = ann.get(Annotations.INCLUDE_INBOUND_PORTS, text(icpt, "includeInboundPorts", null));
        if (inbound == null) inbound = containerPorts(pod);
        icpt.put("includeInboundPorts", ports(inbound, true, Integer.MAX_VALUE,
                ann.source(Annotations.INCLUDE_INBOUND_PORTS, "interception.includeInboundPorts")));
        portList(icpt, ann, Annotations.EXCLUDE_INBOUND_PORTS, "excludeInboundPorts", false, Integer.MAX_VALUE);
        portList(icpt, ann, Annotations.INCLUDE_OUTBOUND_PORTS, "includeOutboundPorts", false, MAX_MULTIPORT);
        portList(icpt, ann, Annotations.EXCLUDE_OUTBOUND_PORTS, "excludeOutboundPorts", false, Integer.MAX_VALUE);
        rangeList(icpt, ann, Annotations.INCLUDE_OUTBOUND_IP_RANGES, "includeOutboundIPRanges", true);
        rangeList(icpt, ann, Annotations.EXCLUDE_OUTBOUND_IP_RANGES, "excludeOutboundIPRanges", false);
        icpt.put("inboundListenerPort", port(icpt.get("inboundListenerPort"), "interception.inboundListenerPort"));
        icpt.put("outboundListenerPort", port(icpt.get("outboundListenerPort"), "interception.outboundListenerPort"));

        // Mutating admission runs before the API server validates the pod: names are checked here too (null if not
        // a DNS name), as a template may put them into a text.
        ObjectNode p = ctx.putObject("pod");
        String name = meta.path("name").asText("");
        if (name.isEmpty()) name = meta.path("generateName").asText("");
        putName(p, "name", name.endsWith("-") ? name.substring(0, name.length() - 1) : name);
        putName(p, "namespace", namespace);
        putName(p, "serviceAccountName", pod.path("spec").path("serviceAccountName").asText("default"));
        return ctx;
    }

    private static void putName(ObjectNode into, String field, String name) {
        if (name != null && name.length() <= 253 && DNS_SUBDOMAIN.matcher(name).matches()) into.put(field, name);
        else into.putNull(field);
    }

    /** The pod's annotations, Remora key first, then its Istio alias, then the values' default. */
    private record Overrides(JsonNode annotations) {
        String get(String key, String fallback) {
            String v = raw(key);
            return v != null ? v.strip() : fallback;
        }

        String raw(String key) {
            String v = scalar(annotations.get(key));
            if (v != null) return v;
            String alias = Annotations.istioAlias(key);
            return alias == null ? null : scalar(annotations.get(alias));
        }

        /** Annotations are strings in the API; an offline manifest may hold an unquoted number or boolean. */
        private static String scalar(JsonNode v) {
            return v != null && v.isValueNode() && !v.isNull() ? v.asText() : null;
        }

        /** Where a value came from, for error messages: the annotation actually set, or the values key. */
        String source(String key, String valuesKey) {
            if (annotations.get(key) != null) return "annotation " + key;
            String alias = Annotations.istioAlias(key);
            if (alias != null && annotations.get(alias) != null) return "annotation " + alias;
            return "values " + valuesKey;
        }
    }

    private static void resources(ObjectNode ctx, Overrides ann) {
        JsonNode r = ctx.get("resources");
        if (r == null || !r.isObject()) throw new InjectionException("resources must be a map (requests, limits)");
        ObjectNode res = (ObjectNode) r;
        String cpu = ann.raw(Annotations.PROXY_CPU);
        String mem = ann.raw(Annotations.PROXY_MEMORY);
        String cpuLimit = ann.raw(Annotations.PROXY_CPU_LIMIT);
        String memLimit = ann.raw(Annotations.PROXY_MEMORY_LIMIT);
        // A request raised without its limit would exceed the values' limit (an invalid pod): the limit follows.
        if (cpu != null && cpuLimit == null && res.path("limits").has("cpu")) cpuLimit = cpu;
        if (mem != null && memLimit == null && res.path("limits").has("memory")) memLimit = mem;
        setQuantity(res, "requests", "cpu", cpu, ann.source(Annotations.PROXY_CPU, ""));
        setQuantity(res, "requests", "memory", mem, ann.source(Annotations.PROXY_MEMORY, ""));
        setQuantity(res, "limits", "cpu", cpuLimit, ann.source(Annotations.PROXY_CPU_LIMIT, ""));
        setQuantity(res, "limits", "memory", memLimit, ann.source(Annotations.PROXY_MEMORY_LIMIT, ""));
        for (String kind : List.of("requests", "limits")) {
            JsonNode m = res.get(kind);
            if (m == null) continue;
            if (!m.isObject()) throw new InjectionException("resources." + kind + " must be a map");
            for (Map.Entry<String, JsonNode> e : m.properties()) {
                checkQuantity(e.getValue().asText(), "resources." + kind + "." + e.getKey());
            }
        }
    }

    private static void setQuantity(ObjectNode res, String kind, String resource, String value, String source) {
        if (value == null) return;
        String v = value.strip();
        if (!QUANTITY.matcher(v).matches()) {
            throw new InjectionException(source + " " + quote(value) + " is not a quantity (e.g. 500m, 1, 256Mi)");
        }
        JsonNode m = res.get(kind);
        ObjectNode map = m instanceof ObjectNode o ? o : res.putObject(kind);
        map.put(resource, v);
    }

    private static void portList(ObjectNode icpt, Overrides ann, String key, String field, boolean star, int max) {
        String v = ann.get(key, text(icpt, field, ""));
        icpt.put(field, ports(v == null ? "" : v, star, max, ann.source(key, "interception." + field)));
    }

    private static void rangeList(ObjectNode icpt, Overrides ann, String key, String field, boolean star) {
        String v = ann.get(key, text(icpt, field, ""));
        icpt.put(field, cidrs(v == null ? "" : v, star, ann.source(key, "interception." + field)));
    }

    /** A comma-separated port list ("" allowed, "*" when {@code star}), normalized without blanks. */
    static String ports(String list, boolean star, int max, String source) {
        String s = list.strip();
        if (s.isEmpty()) return "";
        if (s.equals("*")) {
            if (star) return "*";
            throw new InjectionException(source + ": \"*\" is not allowed here (a port list)");
        }
        List<String> out = new ArrayList<>();
        for (String part : s.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            int p;
            try {
                p = Integer.parseInt(t);
            } catch (NumberFormatException e) {
                throw new InjectionException(source + ": " + quote(t) + " is not a port number");
            }
            if (p < 1 || p > 65535) throw new InjectionException(source + ": port " + p + " is out of range 1-65535");
            out.add(Integer.toString(p));
        }
        if (out.size() > max) throw new InjectionException(source + ": at most " + max + " ports, got " + out.size());
        return String.join(",", out);
    }

    /** A comma-separated IPv4 CIDR list ("" allowed, "*" when {@code star}), normalized without blanks. */
    static String cidrs(String list, boolean star, String source) {
        String s = list.strip();
        if (s.isEmpty()) return "";
        if (s.equals("*")) {
            if (star) return "*";
            throw new InjectionException(source + ": \"*\" is not allowed here (a CIDR list)");
        }
        List<String> out = new ArrayList<>();
        for (String part : s.split(",")) {
            String t = part.strip();
            if (t.isEmpty()) continue;
            var m = IPV4_CIDR.matcher(t);
            boolean ok = m.matches();
            for (int i = 1; ok && i <= 4; i++) ok = Integer.parseInt(m.group(i)) <= 255;
            if (ok && m.group(6) != null) ok = Integer.parseInt(m.group(6)) <= 32;
            if (!ok) throw new InjectionException(source + ": " + quote(t) + " is not an IPv4 CIDR (IPv4 only)");
            out.add(t);
        }
        return String.join(",", out);
    }

    /** The TCP containerPorts the pod's app containers declare, in order, comma-separated ("" when none). */
    static String containerPorts(JsonNode pod) {
        Set<String> ports = new LinkedHashSet<>();
        for (JsonNode c : pod.path("spec").path("containers")) {
            for (JsonNode p : c.path("ports")) {
                String proto = p.path("protocol").asText("TCP");
                if (proto.equals("TCP") && p.path("containerPort").canConvertToInt()) {
                    ports.add(Integer.toString(p.path("containerPort").asInt()));
                }
            }
        }
        return String.join(",", ports);
    }

    /** Remora's levels, and Istio's words for them. */
    static String logLevel(String level, String source) {
        return switch (level.strip().toUpperCase(Locale.ROOT)) {
            case "FATAL", "CRITICAL" -> "FATAL";
            case "ERROR" -> "ERROR";
            case "WARN", "WARNING" -> "WARN";
            case "INFO" -> "INFO";
            case "DEBUG" -> "DEBUG";
            case "TRACE" -> "TRACE";
            default -> throw new InjectionException(source + " " + quote(level)
                    + ": one of FATAL, ERROR, WARN, INFO, DEBUG, TRACE");
        };
    }

    /** A user's value in a message: JSON-quoted (no newline reaches a log line or a warning), ~64 chars at most. */
    static String quote(String v) {
        if (v == null) return "null";
        String q = com.fasterxml.jackson.databind.node.TextNode.valueOf(v).toString();
        return q.length() <= 66 ? q : q.substring(0, 62) + "...\"";
    }

    private static void checkImage(String image, String source) {
        if (image == null || !IMAGE.matcher(image).matches()) {
            throw new InjectionException(source + " " + quote(image) + " is not an image reference");
        }
    }

    private static void checkQuantity(String q, String source) {
        if (q == null || !QUANTITY.matcher(q).matches()) {
            throw new InjectionException(source + " " + quote(q) + " is not a quantity (e.g. 500m, 1, 256Mi)");
        }
    }

    private static int port(JsonNode n, String field) {
        return intIn(n, field, 1, 65535);
    }

    private static int intIn(JsonNode n, String field, int min, int max) {
        long v;
        if (n != null && n.isIntegralNumber() && n.canConvertToLong()) {
            v = n.longValue();
        } else if (n != null && n.isTextual() && n.textValue().strip().matches("-?[0-9]{1,10}")) {
            v = Long.parseLong(n.textValue().strip());
        } else {
            throw new InjectionException(field + " must be a number from " + min + " to " + max + ", got " + n);
        }
        if (v < min || v > max) {
            throw new InjectionException(field + " must be a number from " + min + " to " + max + ", got " + v);
        }
        return (int) v;
    }

    private static ObjectNode objectAt(ObjectNode ctx, String field) {
        JsonNode n = ctx.get(field);
        if (n == null || n.isNull()) return ctx.putObject(field);
        if (!n.isObject()) throw new InjectionException(field + " must be a map");
        return (ObjectNode) n;
    }

    private static String text(JsonNode obj, String field, String fallback) {
        JsonNode n = obj.get(field);
        if (n == null || n.isNull()) return fallback;
        if (!n.isValueNode()) throw new InjectionException(field + " must be a string, got " + n);
        return n.asText();
    }
}
