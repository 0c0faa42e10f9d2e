package io.remora.injector.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Json;
import io.remora.injector.inject.InjectionResult.SkipReason;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Decides whether a pod gets the sidecar and computes the JSON patch that adds it. Shared by the webhook (the patch
 * goes back to the API server) and {@code remora inject} (the patch is applied to each pod template). Pure: no I/O,
 * thread-safe; the config is read once per pod, so a reload never mixes two templates in one patch.
 *
 * <p>Order of decisions: already injected (status annotation, an Istio sidecar) → host network → ignored namespace
 * → the pod's own inject annotation/label → the policy → render → a container of the same name already there
 * (a hand-written sidecar: left alone). Namespace labels are not seen here: the API server applies them through
 * the webhook's namespaceSelector (an AdmissionReview carries no namespace labels).
 */
public final class PodInjector {

    private final Supplier<InjectionConfig> config;

    public PodInjector(Supplier<InjectionConfig> config) {
        this.config = requireNonNull(config, "config");
    }

    /**
     * @param pod       a Pod, or a workload's pod template ({@code metadata} + {@code spec})
     * @param namespace the pod's namespace (the admission request's), or null when unknown
     */
    public InjectionResult inject(JsonNode pod, String namespace) {
        requireNonNull(pod, "pod");
        InjectionConfig cfg = config.get();
        String v = cfg.version();
        List<String> w = new ArrayList<>(); // warnings
        try {
            if (!pod.isObject() || !pod.path("spec").isObject() || !pod.path("spec").path("containers").isArray()) {
                throw new InjectionException("the pod has no spec.containers list");
            }
            JsonNode meta = pod.path("metadata");
            JsonNode annotations = meta.path("annotations");
            JsonNode labels = meta.path("labels");
            if (annotations.has(Annotations.STATUS)) {
                return skip(SkipReason.ALREADY_INJECTED, "already injected (" + Annotations.STATUS + ")", w, v);
            }
            if (annotations.has(Annotations.ISTIO_STATUS)) {
                return skip(SkipReason.ISTIO_SIDECAR, "has an Istio sidecar (" + Annotations.ISTIO_STATUS + ")", w, v);
            }
            if (pod.path("spec").path("hostNetwork").asBoolean(false)) {
                return skip(SkipReason.HOST_NETWORK, "uses the host network", w, v);
            }
            if (namespace != null && cfg.neverInjectNamespaces().contains(namespace)) {
                return skip(SkipReason.IGNORED_NAMESPACE, "namespace " + namespace + " is never injected", w, v);
            }
            Choice choice = choice(annotations, labels, w);
            if (choice != null && !choice.inject) {
                return skip(SkipReason.OPTED_OUT, "opted out (" + choice.source + ")", w, v);
            }
            if (choice == null && cfg.policy() == Policy.DISABLED) {
                return skip(SkipReason.POLICY_DISABLED, "policy disabled and the pod does not opt in", w, v);
            }

            Injection inj = cfg.render(pod, namespace);
            Set<String> existing = names(pod.path("spec").path("containers"));
            existing.addAll(names(pod.path("spec").path("initContainers")));
            for (String n : concat(inj.initContainerNames(), inj.containerNames())) {
                if (existing.contains(n)) {
                    return skip(SkipReason.HAS_SIDECAR_CONTAINER, "already has a container named " + n, w, v);
                }
            }
            Set<String> volumes = names(pod.path("spec").path("volumes"));
            for (String vol : inj.volumeNames()) {
                if (volumes.contains(vol)) throw new InjectionException("the pod already has a volume named " + vol);
            }
            ArrayNode patch = patch(pod, inj, status(inj, v));
            return InjectionResult.injected(patch, "injected " + concat(inj.initContainerNames(), inj.containerNames())
                    + ", interception " + inj.interceptionMode() + " (config " + v + ")", w, v);
        } catch (InjectionException e) {
            return InjectionResult.failed(e.getMessage(), w, v);
        }
    }

    private static InjectionResult skip(SkipReason reason, String message, List<String> w, String v) {
        return InjectionResult.skipped(reason, message, w, v);
    }

    private record Choice(boolean inject, String source) {}

    /** The pod's own say: Remora's key before Istio's, annotation before label; null when it says nothing. */
    private static Choice choice(JsonNode annotations, JsonNode labels, List<String> warnings) {
        String[][] sources = {
                {"annotation", Annotations.INJECT}, {"label", Annotations.INJECT},
                {"annotation", Annotations.ISTIO_INJECT}, {"label", Annotations.ISTIO_INJECT}};
        for (String[] s : sources) {
            JsonNode v = (s[0].equals("annotation") ? annotations : labels).get(s[1]);
            if (v == null || !v.isValueNode() || v.isNull()) continue;
            String text = v.asText().strip().toLowerCase(Locale.ROOT);
            String where = s[0] + " " + s[1] + "=" + PodValues.quote(v.asText());
            switch (text) {
                case "true", "y", "yes", "on" -> { return new Choice(true, where); }
                case "false", "n", "no", "off" -> { return new Choice(false, where); }
                default -> warnings.add("ignored " + where + ": not true or false");
            }
        }
        return null;
    }

    /** Init containers first (before the app's, so theirs already go through the sidecar), the rest appended. */
    private static ArrayNode patch(JsonNode pod, Injection inj, String status) {
        ArrayNode ops = Json.JSON.createArrayNode();
        JsonNode spec = pod.path("spec");
        if (!inj.initContainers().isEmpty()) {
            if (!spec.path("initContainers").isArray()) {
                ops.add(JsonPatches.add("/spec/initContainers", array(inj.initContainers())));
            } else {
                for (int i = 0; i < inj.initContainers().size(); i++) {
                    ops.add(JsonPatches.add("/spec/initContainers/" + i, inj.initContainers().get(i)));
                }
            }
        }
        for (ObjectNode c : inj.containers()) ops.add(JsonPatches.add("/spec/containers/-", c));
        if (!inj.volumes().isEmpty()) {
            if (!spec.path("volumes").isArray()) {
                ops.add(JsonPatches.add("/spec/volumes", array(inj.volumes())));
            } else {
                for (ObjectNode v : inj.volumes()) ops.add(JsonPatches.add("/spec/volumes/-", v));
            }
        }
        JsonNode meta = pod.path("metadata");
        if (!meta.isObject()) ops.add(JsonPatches.add("/metadata", Json.JSON.createObjectNode()));
        Map<String, String> annotations = new java.util.LinkedHashMap<>(inj.annotations());
        annotations.put(Annotations.STATUS, status);
        stringMap(ops, meta, "annotations", annotations);
        stringMap(ops, meta, "labels", inj.labels());
        return ops;
    }

    /** Adds the entries the pod does not have yet: the pod's own values win. */
    private static void stringMap(ArrayNode ops, JsonNode meta, String field, Map<String, String> entries) {
        JsonNode existing = meta.path(field);
        if (!existing.isObject()) {
            if (entries.isEmpty()) return;
            ObjectNode map = Json.JSON.createObjectNode();
            entries.forEach(map::put);
            ops.add(JsonPatches.add("/metadata/" + field, map));
            return;
        }
        entries.forEach((k, v) -> {
            if (!existing.has(k) || k.equals(Annotations.STATUS)) {
                String path = "/metadata/" + field + "/" + JsonPatches.escape(k);
                ops.add(JsonPatches.add(path, Json.JSON.getNodeFactory().textNode(v)));
            }
        });
    }

    /** {@code remora.io/status}: what was added, so tools (and a second call) can tell. */
    private static String status(Injection inj, String version) {
        ObjectNode s = Json.JSON.createObjectNode();
        s.put("version", version);
        inj.initContainerNames().forEach(s.putArray("initContainers")::add);
        inj.containerNames().forEach(s.putArray("containers")::add);
        inj.volumeNames().forEach(s.putArray("volumes")::add);
        s.put("interception", inj.interceptionMode());
        return s.toString();
    }

    private static ArrayNode array(List<ObjectNode> items) {
        ArrayNode a = Json.JSON.createArrayNode();
        items.forEach(a::add);
        return a;
    }

    private static Set<String> names(JsonNode list) {
        Set<String> out = new HashSet<>();
        for (JsonNode n : list) {
            if (n.path("name").isTextual()) out.add(n.path("name").textValue());
        }
        return out;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
