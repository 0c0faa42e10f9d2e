package io.remora.injector.inject;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** What a rendered template adds to one pod, its shape checked: named containers and volumes, string maps. */
record Injection(List<ObjectNode> initContainers, List<ObjectNode> containers, List<ObjectNode> volumes,
                 Map<String, String> annotations, Map<String, String> labels, String interceptionMode) {

    private static final Set<String> KEYS = Set.of("initContainers", "containers", "volumes", "annotations", "labels");
    private static final Pattern DNS_LABEL = Pattern.compile("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$");

    static Injection from(JsonNode rendered, String interceptionMode) {
        if (rendered == null || !rendered.isObject()) {
            throw new InjectionException("template: the top level must be a map");
        }
        for (var it = rendered.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k)) {
                throw new InjectionException("template: unknown top-level key \"" + k + "\" (one of " + KEYS + ")");
            }
        }
        Injection inj = new Injection(named(rendered, "initContainers"), named(rendered, "containers"),
                named(rendered, "volumes"), strings(rendered, "annotations"), strings(rendered, "labels"),
                interceptionMode);
        for (ObjectNode c : concat(inj.initContainers, inj.containers)) {
            JsonNode image = c.get("image");
            if (image == null || !image.isTextual() || image.textValue().isBlank()) {
                throw new InjectionException("template: container " + c.get("name").textValue() + " has no image");
            }
        }
        if (inj.initContainers.isEmpty() && inj.containers.isEmpty()) {
            throw new InjectionException("template: it adds no container");
        }
        List<String> names = new ArrayList<>(inj.initContainerNames());
        names.addAll(inj.containerNames());
        if (names.size() != Set.copyOf(names).size()) {
            throw new InjectionException("template: duplicate container names " + names);
        }
        List<String> vols = inj.volumeNames();
        if (vols.size() != Set.copyOf(vols).size()) {
            throw new InjectionException("template: duplicate volume names " + vols);
        }
        return inj;
    }

    private static List<ObjectNode> concat(List<ObjectNode> a, List<ObjectNode> b) {
        List<ObjectNode> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    List<String> initContainerNames() {
        return names(initContainers);
    }

    List<String> containerNames() {
        return names(containers);
    }

    List<String> volumeNames() {
        return names(volumes);
    }

    private static List<String> names(List<ObjectNode> items) {
        List<String> out = new ArrayList<>(items.size());
        for (ObjectNode o : items) out.add(o.get("name").textValue());
        return out;
    }

    private static List<ObjectNode> named(JsonNode rendered, String key) {
        JsonNode list = rendered.get(key);
        List<ObjectNode> out = new ArrayList<>();
        if (list == null) return out;
        if (!list.isArray()) throw new InjectionException("template: " + key + " must be a list");
        for (int i = 0; i < list.size(); i++) {
            JsonNode item = list.get(i);
            JsonNode name = item.get("name");
            if (!item.isObject() || name == null || !name.isTextual()
                    || !DNS_LABEL.matcher(name.textValue()).matches()) {
                throw new InjectionException("template: " + key + "[" + i + "] needs a name (a DNS label)");
            }
            out.add((ObjectNode) item);
        }
        return out;
    }

    private static Map<String, String> strings(JsonNode rendered, String key) {
        JsonNode map = rendered.get(key);
        Map<String, String> out = new LinkedHashMap<>();
        if (map == null) return out;
        if (!map.isObject()) throw new InjectionException("template: " + key + " must be a map");
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                throw new InjectionException("template: " + key + "." + e.getKey() + " must be a string");
            }
            out.put(e.getKey(), e.getValue().asText());
        }
        return out;
    }
}
