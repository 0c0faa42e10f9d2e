package io.remora.injector.manifest;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Json;
import io.remora.injector.inject.InjectionException;
import io.remora.injector.inject.InjectionResult;
import io.remora.injector.inject.JsonPatches;
import io.remora.injector.inject.PodInjector;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Offline injection, like {@code istioctl kube-inject}: every Pod and workload pod template in a multi-document
 * YAML stream gets the same patch the webhook would send, applied in place; other objects (Services, ConfigMaps,
 * ...) pass through unchanged. Comments and key order of the input are not kept (the output is re-serialized).
 */
public final class ManifestInjector {

    /** The injected YAML, and one line per pod template for the user (stderr). */
    public record Output(String yaml, List<String> notes) {}

    private final PodInjector injector;

    public ManifestInjector(PodInjector injector) {
        this.injector = requireNonNull(injector, "injector");
    }

    /**
     * @param source the file name, for messages
     * @throws InjectionException when a document is not YAML or a pod cannot be injected (the CLI is fail-closed)
     */
    public Output inject(String yaml, String source) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = Json.YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode d = it.nextValue();
                if (d != null && !d.isNull() && !d.isMissingNode()) docs.add(d);
            }
        } catch (IOException | RuntimeException e) {
            throw new InjectionException(source + ": not YAML: " + e.getMessage(), e);
        }
        List<String> notes = new ArrayList<>();
        StringBuilder out = new StringBuilder(yaml.length() + 4096);
        for (int i = 0; i < docs.size(); i++) {
            JsonNode doc = docs.get(i);
            visit(doc, source + "#" + i, notes);
            if (i > 0) out.append("---\n");
            try {
                out.append(Json.YAML.writeValueAsString(doc));
            } catch (IOException e) {
                throw new InjectionException(source + "#" + i + ": cannot write YAML: " + e.getMessage(), e);
            }
        }
        return new Output(out.toString(), notes);
    }

    private void visit(JsonNode doc, String where, List<String> notes) {
        if (!doc.isObject()) return;
        String kind = doc.path("kind").asText("");
        String name = doc.path("metadata").path("name").asText("");
        String namespace = doc.path("metadata").path("namespace").asText("");
        String what = where + " " + kind + "/" + name;
        JsonNode podTemplate = switch (kind) {
            case "Pod" -> doc;
            case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job" ->
                    doc.path("spec").path("template");
            case "CronJob" -> doc.path("spec").path("jobTemplate").path("spec").path("template");
            case "List" -> {
                int j = 0;
                for (JsonNode item : doc.path("items")) visit(item, where + ".items[" + j++ + "]", notes);
                yield null;
            }
            default -> null;
        };
        if (podTemplate == null) return;
        if (!podTemplate.isObject()) throw new InjectionException(what + ": no pod template");
        InjectionResult r = injector.inject(podTemplate, namespace.isEmpty() ? null : namespace);
        for (String w : r.warnings()) notes.add(what + ": warning: " + w);
        switch (r.outcome()) {
            case INJECTED -> {
                JsonPatches.apply((ObjectNode) podTemplate, r.patch());
                notes.add(what + ": " + r.message());
            }
            case SKIPPED -> notes.add(what + ": not injected: " + r.message());
            case FAILED -> throw new InjectionException(what + ": " + r.message());
        }
    }
}
