package io.remora.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code extensions.xds} section of the bootstrap config, plus the environment overrides
 * {@code REMORA_XDS_ADDRESS} and {@code REMORA_NODE_ID}. Null from {@link #from} when xDS is not configured.
 */
record XdsBootstrap(
        /** {@code host:port} or {@code unix:///path}. */
        String address,
        boolean tls,
        long initialFetchTimeoutMs,
        long warmingTimeoutMs,
        int maxMessageBytes,
        String nodeId,
        String nodeCluster,
        /** Node metadata sent to the control plane (labels, namespace, app, proxy version, and the configured extras). */
        Map<String, String> metadata) {

    static final String PROXY_VERSION = "remora-0.1.0";

    static XdsBootstrap from(SidecarConfig cfg, Map<String, String> env) throws ConfigException {
        JsonNode x = cfg.extensions() == null ? null : cfg.extensions().get("xds");
        String envAddress = env.get("REMORA_XDS_ADDRESS");
        if ((x == null || x.isNull()) && (envAddress == null || envAddress.isBlank())) {
            return null;
        }
        if (x != null && !x.isNull() && !x.isObject()) {
            throw new ConfigException("extensions.xds", "must be an object");
        }
        String address = envAddress != null && !envAddress.isBlank() ? envAddress : text(x, "address");
        if (address == null || address.isBlank()) {
            throw new ConfigException("extensions.xds.address", "is required (host:port or unix:///path)");
        }
        if (!address.startsWith("unix://") && address.lastIndexOf(':') <= 0) {
            throw new ConfigException("extensions.xds.address", "\"" + address + "\" is not host:port or unix:///path");
        }
        long initial = number(x, "initial_fetch_timeout_ms", 15_000);
        long warming = number(x, "warming_timeout_ms", 5_000);
        long maxMsg = number(x, "max_message_bytes", 64 << 20);
        if (initial <= 0 || warming <= 0 || maxMsg <= 0 || maxMsg > Integer.MAX_VALUE) {
            throw new ConfigException("extensions.xds", "timeouts and max_message_bytes must be > 0");
        }
        SidecarConfig.Node node = cfg.node();
        String envNode = env.get("REMORA_NODE_ID");
        String nodeId = envNode != null && !envNode.isBlank() ? envNode
                : node != null && node.id() != null ? node.id() : defaultNodeId(node);
        Map<String, String> md = new LinkedHashMap<>();
        if (node != null) {
            if (node.app() != null) {
                md.put("APP", node.app());
            }
            if (node.labels() != null) {
                node.labels().forEach((k, v) -> md.put("LABELS." + k, v));
            }
        }
        String ns = namespaceOf(nodeId);
        if (ns != null) {
            md.put("NAMESPACE", ns);
        }
        md.put("PROXY_VERSION", PROXY_VERSION);
        JsonNode extra = x == null ? null : x.get("metadata");
        if (extra != null && extra.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = extra.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                md.put(e.getKey(), e.getValue().isTextual() ? e.getValue().asText() : e.getValue().toString());
            }
        }
        boolean tls = x != null && x.path("tls").asBoolean(false);
        String cluster = node != null && node.cluster() != null ? node.cluster()
                : node != null && node.app() != null ? node.app() : "remora";
        return new XdsBootstrap(address, tls, initial, warming, (int) maxMsg, nodeId, cluster, Map.copyOf(md));
    }

    /** Istio's form {@code sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local}; the namespace is the 4th part's head. */
    static String namespaceOf(String nodeId) {
        String[] parts = nodeId.split("~");
        if (parts.length == 4) {
            int dot = parts[3].indexOf('.');
            return dot > 0 ? parts[3].substring(0, dot) : parts[3];
        }
        return null;
    }

    private static String defaultNodeId(SidecarConfig.Node node) {
        String app = node != null && node.app() != null ? node.app() : "remora";
        return "sidecar~127.0.0.1~" + app + ".default~default.svc.cluster.local";
    }

    private static String text(JsonNode x, String field) {
        JsonNode v = x == null ? null : x.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static long number(JsonNode x, String field, long dflt) throws ConfigException {
        JsonNode v = x == null ? null : x.get(field);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.canConvertToLong()) {
            throw new ConfigException("extensions.xds." + field, "must be a number, was " + v);
        }
        return v.asLong();
    }
}
