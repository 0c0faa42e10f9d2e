package io.remora.xds;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.SidecarConfig;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@link Node} a sidecar announces, with the metadata Istio's control plane reads (its {@code NodeMetadata}:
 * {@code NAME}, {@code NAMESPACE}, {@code LABELS}, {@code INSTANCE_IPS}, {@code ISTIO_VERSION}, {@code CLUSTER_ID},
 * {@code MESH_ID}, {@code WORKLOAD_NAME}, {@code INTERCEPTION_MODE}, {@code APP_CONTAINERS}, {@code POD_PORTS}, ...).
 * Sources, later ones winning per key: the bootstrap's {@code node} and the Istio node id, then
 * {@code extensions.xds.metadata}, then the pod's environment read the way istio-agent reads it ({@code POD_NAME},
 * {@code POD_NAMESPACE}, {@code INSTANCE_IP}, {@code SERVICE_ACCOUNT}, {@code ISTIO_META_<KEY>} as a string,
 * {@code ISTIO_METAJSON_<KEY>} as JSON).
 */
final class IstioNode {

    /**
     * What the client supports beyond the base protocol: no EDS overprovisioning factor (priorities are not
     * weighted by it), and SotW responses whose resources come in a {@code Resource} wrapper.
     */
    static final List<String> CLIENT_FEATURES = List.of("envoy.lb.does_not_support_overprovisioning",
            "xds.config.resource-in-sotw");

    private IstioNode() {
    }

    static Node build(String nodeId, SidecarConfig.Node node, JsonNode xds, Map<String, String> env)
            throws ConfigException {
        Map<String, Value> md = new TreeMap<>();
        if (node != null && node.app() != null) {
            md.put("APP", text(node.app()));
        }
        if (node != null && node.labels() != null && !node.labels().isEmpty()) {
            Struct.Builder labels = Struct.newBuilder();
            new TreeMap<>(node.labels()).forEach((k, v) -> labels.putFields(k, text(v)));
            md.put("LABELS", Value.newBuilder().setStructValue(labels).build());
        }
        String[] parts = nodeId.split("~");
        if (parts.length == 4) {
            md.put("INSTANCE_IPS", text(parts[1]));
            int dot = parts[2].indexOf('.');
            if (dot > 0) {
                md.put("NAME", text(parts[2].substring(0, dot)));
            }
            md.put("NAMESPACE", text(namespaceOf(nodeId)));
        }
        md.put("PROXY_VERSION", text(XdsBootstrap.PROXY_VERSION));

        JsonNode extra = xds == null ? null : xds.get("metadata");
        if (extra != null && !extra.isNull()) {
            if (!extra.isObject()) {
                throw new ConfigException("extensions.xds.metadata", "must be an object, was " + extra);
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = extra.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                md.put(e.getKey(), value(e.getValue()));
            }
        }

        putEnv(md, env, "POD_NAME", "NAME");
        putEnv(md, env, "POD_NAMESPACE", "NAMESPACE");
        putEnv(md, env, "INSTANCE_IP", "INSTANCE_IPS");
        putEnv(md, env, "SERVICE_ACCOUNT", "SERVICE_ACCOUNT");
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String k = e.getKey();
            if (k.startsWith("ISTIO_METAJSON_") && k.length() > "ISTIO_METAJSON_".length()) {
                try {
                    md.put(k.substring("ISTIO_METAJSON_".length()), value(ConfigLoader.mapper().readTree(e.getValue())));
                } catch (JsonProcessingException ex) {
                    throw new ConfigException(k, "is not JSON: " + ex.getOriginalMessage());
                }
            } else if (k.startsWith("ISTIO_META_") && k.length() > "ISTIO_META_".length()) {
                md.put(k.substring("ISTIO_META_".length()), text(e.getValue()));
            }
        }

        String cluster = node != null && node.cluster() != null ? node.cluster()
                : node != null && node.app() != null ? node.app() : "remora";
        Node.Builder b = Node.newBuilder().setId(nodeId).setCluster(cluster)
                .setMetadata(Struct.newBuilder().putAllFields(md))
                .setUserAgentName("remora").setUserAgentVersion(XdsBootstrap.PROXY_VERSION)
                .addAllClientFeatures(CLIENT_FEATURES);
        JsonNode loc = xds == null ? null : xds.get("locality");
        if (loc != null && !loc.isNull()) {
            if (!loc.isObject()) {
                throw new ConfigException("extensions.xds.locality", "must be an object {region, zone, sub_zone}");
            }
            b.setLocality(Locality.newBuilder().setRegion(loc.path("region").asText(""))
                    .setZone(loc.path("zone").asText("")).setSubZone(loc.path("sub_zone").asText("")));
        }
        return b.build();
    }

    /** Istio's form {@code sidecar~<ip>~<pod>.<ns>~<ns>.svc.cluster.local} from the pod's environment, else a stand-in. */
    static String defaultId(SidecarConfig.Node node, Map<String, String> env) {
        String pod = env.get("POD_NAME");
        String ns = env.get("POD_NAMESPACE");
        if (pod != null && !pod.isBlank() && ns != null && !ns.isBlank()) {
            String ip = env.get("INSTANCE_IP");
            return "sidecar~" + (ip == null || ip.isBlank() ? "127.0.0.1" : ip) + "~" + pod + "." + ns + "~" + ns
                    + ".svc.cluster.local";
        }
        String app = node != null && node.app() != null ? node.app() : "remora";
        return "sidecar~127.0.0.1~" + app + ".default~default.svc.cluster.local";
    }

    /** The namespace of an Istio node id: the 4th part's head; null for other ids. */
    static String namespaceOf(String nodeId) {
        String[] parts = nodeId.split("~");
        if (parts.length == 4) {
            int dot = parts[3].indexOf('.');
            return dot > 0 ? parts[3].substring(0, dot) : parts[3];
        }
        return null;
    }

    private static void putEnv(Map<String, Value> md, Map<String, String> env, String var, String key) {
        String v = env.get(var);
        if (v != null && !v.isBlank()) {
            md.put(key, text(v));
        }
    }

    private static Value text(String s) {
        return Value.newBuilder().setStringValue(s).build();
    }

    static Value value(JsonNode j) {
        if (j.isObject()) {
            Struct.Builder s = Struct.newBuilder();
            for (Iterator<Map.Entry<String, JsonNode>> it = j.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                s.putFields(e.getKey(), value(e.getValue()));
            }
            return Value.newBuilder().setStructValue(s).build();
        }
        if (j.isArray()) {
            ListValue.Builder l = ListValue.newBuilder();
            j.forEach(x -> l.addValues(value(x)));
            return Value.newBuilder().setListValue(l).build();
        }
        if (j.isNumber()) {
            return Value.newBuilder().setNumberValue(j.asDouble()).build();
        }
        if (j.isBoolean()) {
            return Value.newBuilder().setBoolValue(j.asBoolean()).build();
        }
        if (j.isNull()) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        return text(j.asText());
    }
}
