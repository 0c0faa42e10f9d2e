package io.remora.injector.inject;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Json;
import io.remora.injector.template.Template;
import io.remora.injector.template.TemplateException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * One injection template and its values, checked: the template compiles, the values are well-formed, and a sample
 * pod renders (plain, with interception, with a log level) into a valid injection. Immutable; swapped whole on reload.
 *
 * @param version the first 12 hex digits of SHA-256 over template and values; recorded in {@code remora.io/status}
 */
public record InjectionConfig(Template template, ObjectNode values, Policy policy, Set<String> neverInjectNamespaces,
                              String version) {

    /** Resources holding the bundled template and values (the same text as deploy/k8s/injector.yaml's ConfigMap). */
    public static final String BUNDLED_TEMPLATE = "/io/remora/injector/template.yaml";
    public static final String BUNDLED_VALUES = "/io/remora/injector/values.yaml";

    public InjectionConfig {
        requireNonNull(template, "template");
        requireNonNull(values, "values");
        requireNonNull(policy, "policy");
        neverInjectNamespaces = Set.copyOf(neverInjectNamespaces);
        requireNonNull(version, "version");
    }

    /** Parses and checks; any problem is an {@link InjectionException} naming the file and the field. */
    public static InjectionConfig parse(String templateYaml, String valuesYaml) {
        JsonNode tree = yaml(templateYaml, "template");
        JsonNode valuesTree = yaml(valuesYaml, "values");
        if (!valuesTree.isObject()) throw new InjectionException("values: the top level must be a map");
        ObjectNode values = (ObjectNode) valuesTree;
        Template template;
        try {
            template = Template.compile(tree);
        } catch (TemplateException e) {
            throw new InjectionException("template: " + e.getMessage(), e);
        }
        Policy policy = Policy.parse(values.path("policy").asText("enabled"));
        Set<String> never = new LinkedHashSet<>();
        JsonNode nn = values.path("neverInjectNamespaces");
        if (!nn.isMissingNode() && !nn.isNull() && !nn.isArray()) {
            throw new InjectionException("values: neverInjectNamespaces must be a list");
        }
        for (JsonNode n : nn) never.add(n.asText());
        InjectionConfig config = new InjectionConfig(template, values, policy, never, digest(templateYaml, valuesYaml));
        config.selfCheck();
        return config;
    }

    /** The template and values shipped in the injector jar. */
    public static InjectionConfig bundled() {
        return parse(resource(BUNDLED_TEMPLATE), resource(BUNDLED_VALUES));
    }

    public static String resource(String name) {
        try (InputStream in = InjectionConfig.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException("missing resource " + name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read resource " + name, e);
        }
    }

    /** Renders for one pod; the values are resolved with the pod's overrides first. */
    Injection render(JsonNode pod, String namespace) {
        ObjectNode ctx = PodValues.resolve(values, pod, namespace);
        JsonNode rendered;
        try {
            rendered = template.render(ctx);
        } catch (TemplateException e) {
            throw new InjectionException("template: " + e.getMessage(), e);
        }
        return Injection.from(rendered, ctx.path("interception").path("mode").asText());
    }

    /** A bad template or values file fails here, at load, not at the first pod. */
    private void selfCheck() {
        for (Map<String, String> annotations : java.util.List.of(
                Map.<String, String>of(),
                Map.of(Annotations.INTERCEPTION_MODE, "TPROXY"),
                Map.of(Annotations.LOG_LEVEL, "INFO"))) {
            ObjectNode pod = Json.JSON.createObjectNode();
            ObjectNode meta = pod.putObject("metadata");
            meta.put("name", "sample");
            ObjectNode ann = meta.putObject("annotations");
            annotations.forEach(ann::put);
            ObjectNode app = pod.putObject("spec").putArray("containers").addObject();
            app.put("name", "app").put("image", "app:1").putArray("ports").addObject().put("containerPort", 8080);
            try {
                render(pod, "default");
            } catch (InjectionException e) {
                String with = annotations.isEmpty() ? "" : " (checking with " + annotations + ")";
                throw new InjectionException(e.getMessage() + with, e);
            }
        }
    }

    private static JsonNode yaml(String text, String what) {
        try {
            JsonNode n = Json.YAML.readTree(text);
            if (n == null || n.isMissingNode() || n.isNull()) throw new InjectionException(what + ": empty");
            return n;
        } catch (JsonProcessingException e) {
            var at = e.getLocation();
            throw new InjectionException(what + ": not YAML: " + e.getOriginalMessage()
                    + (at == null ? "" : " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")"), e);
        }
    }

    private static String digest(String template, String values) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(template.getBytes(StandardCharsets.UTF_8));
            md.update((byte) 0);
            md.update(values.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
