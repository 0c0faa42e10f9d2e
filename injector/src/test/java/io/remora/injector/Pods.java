package io.remora.injector;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;

/** Pods the tests send: an app container with a port, plus what each test adds. */
public final class Pods {

    private Pods() {}

    public static ObjectNode app() {
        return parse("""
                {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"generateName": "hello-client-7d4b9c-", "namespace": "shop",
                              "labels": {"app": "hello-client"}},
                 "spec": {"containers": [{"name": "app", "image": "registry.example.com/hello-client:1.0",
                                          "ports": [{"name": "http", "containerPort": 8080}, {"containerPort": 9090}],
                                          "resources": {"requests": {"cpu": "2", "memory": "8Gi"}}}]}}
                """);
    }

    public static ObjectNode withAnnotations(ObjectNode pod, String... keyValues) {
        ObjectNode a = ((ObjectNode) pod.get("metadata")).withObjectProperty("annotations");
        for (int i = 0; i < keyValues.length; i += 2) a.put(keyValues[i], keyValues[i + 1]);
        return pod;
    }

    public static ObjectNode withLabels(ObjectNode pod, String... keyValues) {
        ObjectNode a = ((ObjectNode) pod.get("metadata")).withObjectProperty("labels");
        for (int i = 0; i < keyValues.length; i += 2) a.put(keyValues[i], keyValues[i + 1]);
        return pod;
    }

    public static ObjectNode parse(String json) {
        try {
            return (ObjectNode) Json.JSON.readTree(json);
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The container (or init container) named {@code name}, or null. */
    public static JsonNode container(JsonNode pod, String list, String name) {
        for (JsonNode c : pod.path("spec").path(list)) {
            if (c.path("name").asText().equals(name)) return c;
        }
        return null;
    }
}
