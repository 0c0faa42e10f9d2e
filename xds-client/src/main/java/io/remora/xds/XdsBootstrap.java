package io.remora.xds;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code extensions.xds} section of the bootstrap config, plus the environment overrides
 * {@code REMORA_XDS_ADDRESS}, {@code REMORA_XDS_API} and {@code REMORA_NODE_ID} (and Istio's pod variables, see
 * {@link IstioNode}). Null from {@link #from} when xDS is not configured.
 */
record XdsBootstrap(
        /** {@code host:port} or {@code unix:///path}. */
        String address,
        Api api,
        boolean tls,
        long initialFetchTimeoutMs,
        long warmingTimeoutMs,
        int maxMessageBytes,
        long reconnectBaseMs,
        long reconnectMaxMs,
        String nodeId,
        /** The Node sent to the control plane: id, cluster, Istio metadata, locality, user agent, client features. */
        Node node,
        /**
         * Where secrets come from when not over ADS: istio-agent's SDS server ({@code unix:///var/run/secrets/
         * workload-spiffe-uds/socket}) or {@code host:port}; a SotW {@code StreamSecrets} stream. Null: over ADS.
         */
        String sdsAddress) {

    static final String PROXY_VERSION = "remora-0.1.0";

    /** The ADS dialect: state of the world, delta, or delta with a fallback to SotW on UNIMPLEMENTED. */
    enum Api { SOTW, DELTA, AUTO }

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
        String envApi = env.get("REMORA_XDS_API");
        String apiText = envApi != null && !envApi.isBlank() ? envApi : text(x, "api");
        Api api;
        try {
            api = apiText == null ? Api.SOTW : Api.valueOf(apiText.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigException(envApi != null && !envApi.isBlank() ? "REMORA_XDS_API" : "extensions.xds.api",
                    "\"" + apiText + "\" is not one of sotw, delta, auto");
        }
        long initial = number(x, "initial_fetch_timeout_ms", 15_000);
        long warming = number(x, "warming_timeout_ms", 5_000);
        long maxMsg = number(x, "max_message_bytes", 64 << 20);
        if (initial <= 0 || warming <= 0 || maxMsg <= 0 || maxMsg > Integer.MAX_VALUE) {
            throw new ConfigException("extensions.xds", "timeouts and max_message_bytes must be > 0");
        }
        long base = number(x, "reconnect_base_ms", 500);
        long max = number(x, "reconnect_max_ms", 30_000);
        if (base <= 0 || max < base) {
            throw new ConfigException("extensions.xds", "reconnect_base_ms must be > 0 and reconnect_max_ms >= it, were "
                    + base + " and " + max);
        }
        SidecarConfig.Node node = cfg.node();
        String envNode = env.get("REMORA_NODE_ID");
        String nodeId = envNode != null && !envNode.isBlank() ? envNode
                : node != null && node.id() != null ? node.id() : IstioNode.defaultId(node, env);
        boolean tls = x != null && x.path("tls").asBoolean(false);
        String sds = text(x, "sds_address");
        if (sds != null && !sds.startsWith("unix://") && sds.lastIndexOf(':') <= 0) {
            throw new ConfigException("extensions.xds.sds_address", "\"" + sds + "\" is not host:port or "
                    + "unix:///path");
        }
        return new XdsBootstrap(address, api, tls, initial, warming, (int) maxMsg, base, max, nodeId,
                IstioNode.build(nodeId, node, x, env), sds);
    }

    /** A node metadata field as text (tests, logs); null when absent. */
    String metadata(String key) {
        com.google.protobuf.Value v = node.getMetadata().getFieldsMap().get(key);
        return v == null ? null : v.hasStringValue() ? v.getStringValue() : v.toString();
    }

    static String text(JsonNode x, String field) {
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
