package io.remora.injector.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import io.remora.injector.InjectorMainAccess;
import io.remora.injector.Json;
import io.remora.injector.KubeSchema;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code remora inject} (bin/remora-inject) on manifests, like istioctl kube-inject. */
class InjectCommandTest {

    static final String MANIFEST = """
            # the app's config for its sidecar
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: remora-config
            data:
              remora.json: |
                {"node": {"app": "hello-client"},
                 "listeners": []}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: hello-client
              namespace: shop
              labels: {app: hello-client}
            spec:
              replicas: 2
              selector:
                matchLabels: {app: hello-client}
              template:
                metadata:
                  labels: {app: hello-client, version: "1.0"}
                  annotations:
                    sidecar.remora.io/proxyMemory: 256Mi
                spec:
                  containers:
                    - name: app
                      image: registry.example.com/hello-client:1.0
                      ports: [{containerPort: 8080}]
                      env:
                        - {name: RPC_ENDPOINT, value: "bolt://127.0.0.1:12200"}
                        - {name: RETRIES, value: "3"}
                        - {name: VERBOSE, value: "true"}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: hello-client
              namespace: shop
            spec:
              selector: {app: hello-client}
              ports:
                - {name: http, port: 80, targetPort: 8080}
            """;

    @TempDir
    Path tmp;

    private record Run(int code, String out, String err) {}

    private static Run run(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = InjectorMainAccess.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8),
                new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static List<JsonNode> docs(String yaml) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (MappingIterator<JsonNode> it = Json.YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNextValue()) out.add(it.nextValue());
        }
        return out;
    }

    @Test
    void injectsDeploymentAndPassesServiceAndConfigMapThrough() throws Exception {
        Path in = tmp.resolve("app.yaml");
        Files.writeString(in, MANIFEST);
        Run r = run("", "-f", in.toString());
        assertEquals(0, r.code, r.err);

        List<JsonNode> input = docs(MANIFEST);
        List<JsonNode> output = docs(r.out);
        assertEquals(3, output.size(), r.out);
        assertEquals(input.get(0), output.get(0), "ConfigMap unchanged (its multi-line remora.json too)");
        assertEquals(input.get(2), output.get(2), "Service unchanged");
        assertTrue(r.out.contains("remora.json: |"), "multi-line strings stay literal blocks:\n" + r.out);

        JsonNode template = output.get(1).at("/spec/template");
        JsonNode sidecar = template.at("/spec/initContainers/0");
        assertEquals("remora", sidecar.path("name").asText());
        assertEquals("Always", sidecar.path("restartPolicy").asText());
        assertEquals("256Mi", sidecar.at("/resources/requests/memory").asText(), "the pod template's override");
        assertEquals("256Mi", sidecar.at("/resources/limits/memory").asText());
        assertTrue(template.at("/metadata/annotations").has("remora.io/status"));
        assertEquals("3", template.at("/spec/containers/0/env/1/value").textValue(),
                "a string that looks like a number");
        assertEquals("true", template.at("/spec/containers/0/env/2/value").textValue());
        assertEquals("1.0", template.at("/metadata/labels/version").textValue());
        assertTrue(r.err.contains("app.yaml#1 Deployment/hello-client: injected [remora]"), r.err);

        Path injected = tmp.resolve("injected.yaml");
        Files.writeString(injected, r.out);
        KubeSchema.assertValidFile(injected);

        // idempotent: injecting the output again changes nothing
        Run again = run(r.out, "-f", "-");
        assertEquals(0, again.code, again.err);
        assertEquals(r.out, again.out);
        assertTrue(again.err.contains("not injected: already injected (remora.io/status)"), again.err);
    }

    @Test
    void injectsEveryWorkloadKindAndPods() throws Exception {
        String yaml = """
                apiVersion: v1
                kind: Pod
                metadata: {name: one}
                spec:
                  containers: [{name: app, image: app:1}]
                ---
                apiVersion: apps/v1
                kind: StatefulSet
                metadata: {name: db}
                spec:
                  serviceName: db
                  selector: {matchLabels: {app: db}}
                  template:
                    metadata: {labels: {app: db}}
                    spec:
                      containers: [{name: app, image: app:1}]
                ---
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent}
                spec:
                  selector: {matchLabels: {app: agent}}
                  template:
                    metadata: {labels: {app: agent}}
                    spec:
                      containers: [{name: app, image: app:1}]
                ---
                apiVersion: apps/v1
                kind: ReplicaSet
                metadata: {name: rs}
                spec:
                  selector: {matchLabels: {app: rs}}
                  template:
                    metadata: {labels: {app: rs}}
                    spec:
                      containers: [{name: app, image: app:1}]
                ---
                apiVersion: batch/v1
                kind: Job
                metadata: {name: once}
                spec:
                  template:
                    spec:
                      restartPolicy: Never
                      containers: [{name: app, image: app:1}]
                ---
                apiVersion: batch/v1
                kind: CronJob
                metadata: {name: nightly}
                spec:
                  schedule: "0 3 * * *"
                  jobTemplate:
                    spec:
                      template:
                        metadata:
                          annotations: {sidecar.remora.io/interceptionMode: TPROXY}
                        spec:
                          restartPolicy: OnFailure
                          containers: [{name: app, image: app:1, ports: [{containerPort: 8080}]}]
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: opted-out}
                spec:
                  selector: {matchLabels: {app: o}}
                  template:
                    metadata:
                      labels: {app: o, sidecar.remora.io/inject: "false"}
                    spec:
                      containers: [{name: app, image: app:1}]
                """;
        Run r = run(yaml, "-f", "-");
        assertEquals(0, r.code, r.err);
        List<JsonNode> out = docs(r.out);
        assertEquals("remora", out.get(0).at("/spec/initContainers/0/name").asText(), "Pod");
        for (int i = 1; i <= 4; i++) {
            assertEquals("remora", out.get(i).at("/spec/template/spec/initContainers/0/name").asText(),
                    out.get(i).toString());
        }
        JsonNode cron = out.get(5).at("/spec/jobTemplate/spec/template/spec");
        assertEquals("remora-init", cron.at("/initContainers/0/name").asText());
        assertEquals("remora", cron.at("/initContainers/1/name").asText());
        assertTrue(out.get(6).at("/spec/template/spec/initContainers").isMissingNode(), "opted out");
        assertEquals(docs(yaml).get(6), out.get(6));
        assertTrue(r.err.contains(
                "Deployment/opted-out: not injected: opted out (label sidecar.remora.io/inject=\"false\")"), r.err);

        Path file = tmp.resolve("kinds.yaml");
        Files.writeString(file, r.out);
        KubeSchema.assertValidFile(file);
    }

    @Test
    void writesToAFileWithCustomValuesAndTemplate() throws Exception {
        Path in = tmp.resolve("app.yaml");
        Files.writeString(in, MANIFEST);
        Path values = tmp.resolve("values.yaml");
        Files.writeString(values, io.remora.injector.inject.InjectionConfig.resource("/io/remora/injector/values.yaml")
                .replace("image: registry.example.com/remora:0.1.0", "image: mirror.example.org/remora:0.1.0"));
        Path outFile = tmp.resolve("out.yaml");
        Run r = run("", "-f", in.toString(), "-o", outFile.toString(), "--values", values.toString(), "--quiet");
        assertEquals(0, r.code, r.err);
        assertEquals("", r.out, "nothing on stdout with -o");
        assertEquals("", r.err, "--quiet");
        JsonNode deployment = docs(Files.readString(outFile)).get(1);
        assertEquals("mirror.example.org/remora:0.1.0",
                deployment.at("/spec/template/spec/initContainers/0/image").asText());
    }

    @Test
    void failsOnAPodItCannotInjectAndOnBadUsage() throws Exception {
        String bad = MANIFEST.replace("sidecar.remora.io/proxyMemory: 256Mi", "sidecar.remora.io/proxyMemory: lots");
        Run r = run(bad, "-f", "-");
        assertEquals(1, r.code);
        assertEquals("", r.out, "no partial output");
        assertTrue(r.err.contains("stdin#1 Deployment/hello-client: annotation sidecar.remora.io/proxyMemory"
                + " \"lots\" is not a quantity"), r.err);

        Run notYaml = run("a: [", "-f", "-");
        assertEquals(1, notYaml.code);
        assertTrue(notYaml.err.contains("stdin: not YAML"), notYaml.err);

        assertEquals(2, run("", "--bogus").code);
        assertEquals(2, run("").code, "-f is required");
        Run missing = run("", "-f", tmp.resolve("nope.yaml").toString());
        assertEquals(1, missing.code);
        assertEquals(2, run("", "serve").code, "serve needs TLS files or --plain-http");
        assertEquals(2, run("", "serve", "--plain-http", "--tls-cert", "c.pem", "--tls-key", "k.pem").code);
        assertEquals(2, run("", "serve", "--plain-http", "--failure-mode", "sometimes").code);
        Run noCert = run("", "serve", "--tls-cert", tmp.resolve("none.crt").toString(), "--tls-key",
                tmp.resolve("none.key").toString(), "--port", "0");
        assertEquals(1, noCert.code, "a missing certificate fails the start");
        assertTrue(noCert.err.contains("none.crt"), noCert.err);
        Run help = run("", "--help");
        assertEquals(0, help.code);
        assertNotNull(help.out);
        assertTrue(help.out.contains("Usage: remora-inject -f FILE"), help.out);
    }
}
