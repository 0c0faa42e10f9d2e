package io.remora.injector;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import io.remora.injector.inject.InjectionConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** deploy/k8s/injector.yaml against the code: the same template, a webhook configuration the API server accepts. */
class InjectorManifestTest {

    @TempDir
    Path tmp;

    private static Map<String, JsonNode> objects() throws Exception {
        Map<String, JsonNode> out = new HashMap<>();
        String yaml = Files.readString(KubeSchema.repoRoot().resolve("deploy/k8s/injector.yaml"));
        try (MappingIterator<JsonNode> it = Json.YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) {
                JsonNode d = it.nextValue();
                out.put(d.path("kind").asText(), d);
            }
        }
        return out;
    }

    @Test
    void templateConfigMapHoldsTheBundledTemplateAndValues() throws Exception {
        JsonNode data = objects().get("ConfigMap").path("data");
        assertEquals(InjectionConfig.resource(InjectionConfig.BUNDLED_TEMPLATE), data.path("template.yaml").asText(),
                "deploy/k8s/injector.yaml's template.yaml differs from the bundled "
                        + "injector/src/main/resources/io/remora/injector/template.yaml");
        assertEquals(InjectionConfig.resource(InjectionConfig.BUNDLED_VALUES), data.path("values.yaml").asText(),
                "deploy/k8s/injector.yaml's values.yaml differs from the bundled "
                        + "injector/src/main/resources/io/remora/injector/values.yaml");
    }

    @Test
    void webhookConfigurationIsSafeToInstall() throws Exception {
        Map<String, JsonNode> objs = objects();
        JsonNode mwc = objs.get("MutatingWebhookConfiguration");
        List<String> names = new ArrayList<>();
        for (JsonNode w : mwc.path("webhooks")) {
            String name = w.path("name").asText();
            names.add(name);
            assertEquals("None", w.path("sideEffects").asText(), name);
            assertEquals("[\"v1\"]", w.path("admissionReviewVersions").toString(), name);
            assertEquals("IfNeeded", w.path("reinvocationPolicy").asText(), name);
            assertEquals("Ignore", w.path("failurePolicy").asText(), name + ": fail-open like the injector's default");
            assertEquals("/inject", w.at("/clientConfig/service/path").asText(), name);
            assertEquals("remora-injector", w.at("/clientConfig/service/name").asText(), name);
            assertEquals("[\"CREATE\"]", w.at("/rules/0/operations").toString(), name);
            assertEquals("[\"pods\"]", w.at("/rules/0/resources").toString(), name);
            assertTrue(w.at("/namespaceSelector/matchExpressions").toString()
                    .contains("{\"key\":\"kubernetes.io/metadata.name\",\"operator\":\"NotIn\","
                            + "\"values\":[\"kube-system\","
                            + "\"kube-public\",\"kube-node-lease\",\"remora-system\"]}"),
                    name + ": never the injector's own namespace (a down webhook must not block its own pods)");
        }
        assertEquals(4, names.size());
        assertEquals("disabled", objs.get("Namespace").at("/metadata/labels/remora-injection").asText());

        JsonNode container = objs.get("Deployment").at("/spec/template/spec/containers/0");
        List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        assertEquals("serve", args.get(0));
        assertEquals("/etc/remora-injector/template/template.yaml", args.get(args.indexOf("--template") + 1));
        assertEquals("/etc/remora-injector/certs/tls.crt", args.get(args.indexOf("--tls-cert") + 1));
        assertEquals(9443, container.at("/ports/0/containerPort").asInt());
        assertEquals("https", objs.get("Service").at("/spec/ports/0/targetPort").asText());
    }

    @Test
    void schemaCheckRejectsAnInvalidPod() throws Exception {
        JsonNode bad = Pods.parse("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"x\"},"
                + "\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"a:1\",\"restartPolicy\":7}]}}");
        Path file = tmp.resolve("bad.yaml");
        Files.writeString(file, Json.YAML.writeValueAsString(bad));
        AssertionError e = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> KubeSchema.assertValidFile(file));
        assertNotEquals(-1, e.getMessage().indexOf("restartPolicy"), e.getMessage());
    }
}
