package io.remora.injector.webhook;

import static io.remora.injector.Pods.container;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Json;
import io.remora.injector.KubeSchema;
import io.remora.injector.Pods;
import io.remora.injector.inject.InjectionConfigSource;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The webhook over real HTTP on 127.0.0.1 with the bundled template; every patch applied with zjsonpatch. */
class WebhookServerTest {

    private static WebhookServer server;
    private static WebhookServer failClosed;
    private static HttpClient http;
    private static Reviews reviews;
    private static Reviews closedReviews;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() throws Exception {
        server = WebhookServer.start(WebhookServer.Options.plain(new InetSocketAddress("127.0.0.1", 0)),
                InjectionConfigSource.bundled());
        failClosed = WebhookServer.start(WebhookServer.Options.plain(new InetSocketAddress("127.0.0.1", 0))
                .withFailClosed(true), InjectionConfigSource.bundled());
        http = HttpClient.newHttpClient();
        reviews = new Reviews(http, base(server));
        closedReviews = new Reviews(http, base(failClosed));
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
        if (failClosed != null) failClosed.close();
    }

    private static URI base(WebhookServer s) {
        return URI.create("http://127.0.0.1:" + s.address().getPort());
    }

    @Test
    void injectsNativeSidecarIntoPodOfEnabledNamespace() throws Exception {
        ObjectNode pod = Pods.app();
        Reviews.Answer a = reviews.send(Reviews.podCreate(pod, "shop"));
        assertEquals(200, a.status());
        JsonNode out = a.applyTo(pod);

        JsonNode sidecar = container(out, "initContainers", "remora");
        assertNotNull(sidecar, () -> "no remora init container: " + out);
        assertEquals(1, out.path("spec").path("initContainers").size(), "no interception init container by default");
        assertEquals("Always", sidecar.path("restartPolicy").asText(), "a native sidecar");
        assertEquals("registry.example.com/remora:0.1.0", sidecar.path("image").asText());
        assertEquals(List.of("--config", "/etc/remora/remora.json", "--log-dir", "/var/log/remora", "--drain-timeout",
                "20"),
                strings(sidecar.path("args")));
        assertEquals(List.of("/opt/remora/bin/remora-probe", "/ready"),
                strings(sidecar.at("/startupProbe/exec/command")));
        assertEquals(60, sidecar.at("/startupProbe/failureThreshold").asInt());
        assertEquals(List.of("/opt/remora/bin/remora-probe", "/ready"),
                strings(sidecar.at("/readinessProbe/exec/command")));
        assertEquals(List.of("/opt/remora/bin/remora-probe", "/healthz"),
                strings(sidecar.at("/livenessProbe/exec/command")));
        assertEquals("500m", sidecar.at("/resources/requests/cpu").asText());
        assertEquals("512Mi", sidecar.at("/resources/limits/memory").asText());
        JsonNode sc = sidecar.path("securityContext");
        assertEquals(1337, sc.path("runAsUser").asInt());
        assertTrue(sc.path("runAsNonRoot").asBoolean());
        assertFalse(sc.path("allowPrivilegeEscalation").asBoolean(true));
        assertTrue(sc.path("readOnlyRootFilesystem").asBoolean());
        assertEquals(List.of("ALL"), strings(sc.at("/capabilities/drop")));
        assertTrue(sc.at("/capabilities/add").isMissingNode(), "no capability added without interception");
        assertTrue(sidecar.path("lifecycle").isMissingNode(), "no log-level hook without an override");
        assertEquals("34901", sidecar.at("/env/0/value").asText());

        List<String> volumes = new ArrayList<>();
        out.path("spec").path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
        assertEquals(List.of("remora-run", "remora-logs", "remora-config"), volumes);
        assertEquals("remora-config", out.at("/spec/volumes/2/configMap/name").asText());
        assertEquals("app", out.at("/spec/containers/0/name").asText(), "the app container is untouched");
        assertEquals(1, out.path("spec").path("containers").size());

        JsonNode status = Json.JSON.readTree(out.at("/metadata/annotations").path("remora.io/status").asText());
        assertEquals(List.of("remora"), strings(status.path("initContainers")));
        assertEquals(List.of("remora-run", "remora-logs", "remora-config"), strings(status.path("volumes")));
        assertEquals("NONE", status.path("interception").asText());
        assertEquals(12, status.path("version").asText().length());

        KubeSchema.assertValid(tmp, "injected-pod", out);
    }

    @Test
    void putsSidecarBeforeTheAppsInitContainersAndKeepsItsVolumes() throws Exception {
        ObjectNode pod = Pods.app();
        ObjectNode spec = (ObjectNode) pod.get("spec");
        spec.putArray("initContainers").addObject().put("name", "migrate").put("image", "migrate:1");
        spec.putArray("volumes").addObject().put("name", "data").putObject("emptyDir");
        Pods.withAnnotations(pod, "team", "shop");
        JsonNode out = reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod);

        assertEquals(List.of("remora", "migrate"), names(out.path("spec").path("initContainers")),
                "the app's init containers start after the sidecar, so their calls go through it");
        assertEquals(List.of("data", "remora-run", "remora-logs", "remora-config"),
                names(out.path("spec").path("volumes")));
        assertEquals("shop", out.at("/metadata/annotations/team").asText(), "existing annotations kept");
        assertTrue(out.at("/metadata/annotations").has("remora.io/status"));
        KubeSchema.assertValid(tmp, "with-init", out);
    }

    @Test
    void leavesPodOptedOutByAnnotationAlone() throws Exception {
        reviews.send(Reviews.podCreate(Pods.withAnnotations(Pods.app(), "sidecar.remora.io/inject", "false"), "shop"))
                .assertAllowedUnchanged();
        reviews.send(Reviews.podCreate(Pods.withAnnotations(Pods.app(), "sidecar.istio.io/inject", "false"), "shop"))
                .assertAllowedUnchanged();
        reviews.send(Reviews.podCreate(Pods.withLabels(Pods.app(), "sidecar.istio.io/inject", "false"), "shop"))
                .assertAllowedUnchanged();
    }

    @Test
    void remoraKeyWinsOverIstioKey() throws Exception {
        ObjectNode pod = Pods.withLabels(Pods.withAnnotations(Pods.app(), "sidecar.istio.io/inject", "false"),
                "sidecar.remora.io/inject", "true");
        Reviews.Answer a = reviews.send(Reviews.podCreate(pod, "shop"));
        assertNotNull(container(a.applyTo(pod), "initContainers", "remora"));
    }

    @Test
    void leavesAlreadyInjectedPodAlone() throws Exception {
        ObjectNode pod = Pods.app();
        JsonNode once = reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod);
        // reinvocationPolicy IfNeeded: the API server may call again with the patched pod
        reviews.send(Reviews.podCreate(once, "shop")).assertAllowedUnchanged();

        // a hand-written sidecar (deploy/k8s/app-with-sidecar.yaml): a container already named remora
        ObjectNode manual = Pods.app();
        ((ArrayNode) manual.at("/spec/containers")).addObject().put("name", "remora").put("image", "remora:0.1.0");
        reviews.send(Reviews.podCreate(manual, "shop")).assertAllowedUnchanged();

        // an Istio sidecar
        reviews.send(Reviews.podCreate(Pods.withAnnotations(Pods.app(), "sidecar.istio.io/status", "{}"), "shop"))
                .assertAllowedUnchanged();
    }

    @Test
    void addsInterceptionInitContainerFirst() throws Exception {
        ObjectNode pod = Pods.withAnnotations(Pods.app(), "sidecar.remora.io/interceptionMode", "TPROXY",
                "traffic.sidecar.istio.io/excludeOutboundPorts", "5432, 6379");
        JsonNode out = reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod);

        assertEquals(List.of("remora-init", "remora"), names(out.path("spec").path("initContainers")));
        JsonNode init = container(out, "initContainers", "remora-init");
        assertEquals("registry.example.com/remora-interception:0.1.0", init.path("image").asText());
        assertEquals(List.of("/opt/remora/bin/remora-iptables"), strings(init.path("command")));
        assertEquals(List.of("--inbound-ports", "8080,9090", "--exclude-inbound-ports", "",
                "--outbound-cidrs", "*", "--exclude-outbound-cidrs", "169.254.169.254/32",
                "--outbound-ports", "12200,20880", "--exclude-outbound-ports", "5432,6379",
                "--sidecar-uid", "1337", "--inbound-listener-port", "15006", "--outbound-listener-port", "15001"),
                strings(init.path("args")), "inbound: the app's declared ports; Istio's annotation honoured");
        assertEquals(0, init.at("/securityContext/runAsUser").asInt());
        assertEquals(List.of("NET_ADMIN", "NET_RAW"), strings(init.at("/securityContext/capabilities/add")));
        assertFalse(init.has("restartPolicy"), "a run-once init container");

        JsonNode sidecar = container(out, "initContainers", "remora");
        assertEquals("registry.example.com/remora-interception:0.1.0", sidecar.path("image").asText(),
                "the interception image: CAP_NET_ADMIN as a file capability on java");
        assertEquals(List.of("NET_ADMIN"), strings(sidecar.at("/securityContext/capabilities/add")));
        assertTrue(sidecar.at("/securityContext/allowPrivilegeEscalation").asBoolean());
        assertEquals("TPROXY", Json.JSON.readTree(out.at("/metadata/annotations").path("remora.io/status").asText())
                .path("interception").asText());
        KubeSchema.assertValid(tmp, "interception", out);
    }

    @Test
    void appliesPerPodOverrides() throws Exception {
        ObjectNode pod = Pods.withAnnotations(Pods.app(),
                "sidecar.remora.io/proxyImage", "registry.example.com/remora:0.2.0-rc1",
                "sidecar.remora.io/proxyCPU", "1",
                "sidecar.istio.io/proxyMemory", "1Gi",
                "sidecar.remora.io/proxyMemoryLimit", "2Gi",
                "sidecar.remora.io/configMap", "hello-client-remora",
                "sidecar.remora.io/logLevel", "debug",
                "sidecar.remora.io/interceptionMode", "TPROXY",
                "traffic.remora.io/includeInboundPorts", "8080",
                "traffic.remora.io/excludeInboundPorts", "9090",
                "traffic.remora.io/includeOutboundIPRanges", "10.96.0.0/12,10.0.0.0/8",
                "traffic.remora.io/excludeOutboundIPRanges", "",
                "traffic.remora.io/includeOutboundPorts", "12200");
        JsonNode out = reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod);
        JsonNode sidecar = container(out, "initContainers", "remora");

        assertEquals("registry.example.com/remora:0.2.0-rc1", sidecar.path("image").asText());
        assertEquals("1", sidecar.at("/resources/requests/cpu").asText());
        assertEquals("1", sidecar.at("/resources/limits/cpu").asText(), "the limit follows a raised request");
        assertEquals("1Gi", sidecar.at("/resources/requests/memory").asText(), "Istio's annotation");
        assertEquals("2Gi", sidecar.at("/resources/limits/memory").asText(), "an explicit limit wins");
        assertEquals("hello-client-remora", out.at("/spec/volumes/2/configMap/name").asText());
        String hook = sidecar.at("/lifecycle/postStart/exec/command/2").asText();
        assertTrue(hook.contains("{\"log_level\":\"DEBUG\",\"log_path\":\"\"}"), hook);
        assertTrue(hook.contains("/dev/tcp/127.0.0.1/34901"), hook);

        List<String> args = strings(container(out, "initContainers", "remora-init").path("args"));
        assertEquals("8080", args.get(args.indexOf("--inbound-ports") + 1));
        assertEquals("9090", args.get(args.indexOf("--exclude-inbound-ports") + 1));
        assertEquals("10.96.0.0/12,10.0.0.0/8", args.get(args.indexOf("--outbound-cidrs") + 1));
        assertEquals("", args.get(args.indexOf("--exclude-outbound-cidrs") + 1));
        assertEquals("12200", args.get(args.indexOf("--outbound-ports") + 1));
        KubeSchema.assertValid(tmp, "overrides", out);
    }

    @Test
    void invalidOverrideLetsPodInWithWarningWhenFailOpen() throws Exception {
        ObjectNode pod = Pods.withAnnotations(Pods.app(), "sidecar.remora.io/proxyCPU", "lots\nprivileged: true");
        Reviews.Answer a = reviews.send(Reviews.podCreate(pod, "shop"));
        a.assertAllowedUnchanged();
        String warning = a.response().path("warnings").path(0).asText();
        assertTrue(warning.startsWith("remora-injector: sidecar not injected: annotation sidecar.remora.io/proxyCPU"),
                warning);
        assertTrue(warning.contains("is not a quantity"), warning);

        Reviews.Answer b = reviews.send(Reviews.podCreate(
                Pods.withAnnotations(Pods.app(), "sidecar.remora.io/interceptionMode", "REDIRECT"), "shop"));
        b.assertAllowedUnchanged();
        assertTrue(b.response().path("warnings").path(0).asText().contains("REDIRECT is not supported"),
                b.body().toString());
    }

    @Test
    void invalidOverrideDeniesPodWhenFailClosed() throws Exception {
        ObjectNode pod = Pods.withAnnotations(Pods.app(), "traffic.remora.io/includeOutboundPorts",
                "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16");
        Reviews.Answer a = closedReviews.send(Reviews.podCreate(pod, "shop"));
        assertEquals(200, a.status());
        assertFalse(a.allowed());
        assertFalse(a.hasPatch());
        assertEquals(400, a.response().at("/status/code").asInt());
        assertTrue(a.response().at("/status/message").asText().contains("at most 15 ports"), a.body().toString());
        // a good pod is still injected by the fail-closed server
        ObjectNode good = Pods.app();
        assertNotNull(container(closedReviews.send(Reviews.podCreate(good, "shop")).applyTo(good), "initContainers",
                "remora"));
    }

    @Test
    void answersMalformedReviewWithCleanErrorAndKeepsServing() throws Exception {
        Reviews.Answer notJson = reviews.sendRaw(bytes("{\"apiVersion\": \"admission.k8s.io/v1\", \"kind\": "));
        assertEquals(400, notJson.status());
        assertFalse(notJson.allowed());
        assertTrue(notJson.response().at("/status/message").asText()
                        .startsWith("remora-injector: malformed AdmissionReview: not JSON"),
                notJson.body().toString());

        Reviews.Answer noUid = reviews.sendRaw(bytes("{\"apiVersion\":\"admission.k8s.io/v1\","
                + "\"kind\":\"AdmissionReview\",\"request\":{}}"));
        assertEquals(400, noUid.status());
        assertTrue(noUid.response().at("/status/message").asText().contains("no request.uid"));

        Reviews.Answer v1beta1 = reviews.sendRaw(bytes("{\"apiVersion\":\"admission.k8s.io/v1beta1\","
                + "\"kind\":\"AdmissionReview\",\"request\":{\"uid\":\"u1\"}}"));
        assertEquals(400, v1beta1.status());
        assertEquals("u1", v1beta1.response().path("uid").asText());
        assertTrue(v1beta1.response().at("/status/message").asText()
                .contains("expected apiVersion admission.k8s.io/v1"));

        // a pod that is not a pod: fail-open answer for the known uid, not a crash
        ObjectNode broken = Reviews.podCreate(
                Pods.parse("{\"metadata\":{\"name\":\"x\"},\"spec\":{\"containers\":\"app\"}}"), "shop");
        Reviews.Answer b = reviews.send(broken);
        b.assertAllowedUnchanged();
        assertTrue(b.response().path("warnings").path(0).asText().contains("no spec.containers list"));

        ObjectNode pod = Pods.app();
        assertNotNull(container(reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod), "initContainers", "remora"),
                "still serving");
    }

    @Test
    void allowsNonPodObjectsAndOtherOperationsUnchanged() throws Exception {
        JsonNode deployment = Pods.parse("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                + "\"metadata\":{\"name\":\"d\"},"
                + "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"a:1\"}]}}}}");
        reviews.send(Reviews.review("CREATE", "apps", "v1", "Deployment", "deployments", deployment,
                "shop")).assertAllowedUnchanged();
        JsonNode cm = Pods.parse(
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"c\"},\"data\":{}}");
        reviews.send(Reviews.review("CREATE", "", "v1", "ConfigMap", "configmaps", cm,
                "shop")).assertAllowedUnchanged();
        reviews.send(Reviews.review("UPDATE", "", "v1", "Pod", "pods", Pods.app(), "shop")).assertAllowedUnchanged();
    }

    @Test
    void skipsHostNetworkPodsAndNeverInjectedNamespaces() throws Exception {
        ObjectNode host = Pods.app();
        ((ObjectNode) host.get("spec")).put("hostNetwork", true);
        reviews.send(Reviews.podCreate(host, "shop")).assertAllowedUnchanged();
        reviews.send(Reviews.podCreate(Pods.app(), "kube-system")).assertAllowedUnchanged();
    }

    @Test
    void servesHealthReadinessMetricsAndRefusesOtherRequests() throws Exception {
        URI base = base(server);
        assertEquals(200, get(base.resolve("/healthz")).statusCode());
        HttpResponse<String> ready = get(base.resolve("/ready"));
        assertEquals(200, ready.statusCode());
        assertTrue(ready.body().startsWith("ready "), ready.body());

        reviews.send(Reviews.podCreate(Pods.withAnnotations(Pods.app(), "sidecar.remora.io/inject", "false"), "shop"));
        String metrics = get(base.resolve("/metrics")).body();
        assertTrue(metrics.contains("remora_injector_reviews_total{result=\"injected\"} "), metrics);
        assertTrue(metrics.matches("(?s).*remora_injector_skips_total\\{reason=\"opted_out\"} [1-9].*"), metrics);
        assertTrue(metrics.contains("remora_injector_config_info{version=\""), metrics);

        assertEquals(405, get(base.resolve("/inject")).statusCode());
        assertEquals(404, get(base.resolve("/nope")).statusCode());
        HttpResponse<String> big = http.send(HttpRequest.newBuilder(base.resolve("/inject"))
                .POST(HttpRequest.BodyPublishers.ofByteArray(new byte[9 << 20])).build(),
                        HttpResponse.BodyHandlers.ofString());
        assertEquals(413, big.statusCode());
        assertEquals(200, get(base.resolve("/healthz")).statusCode());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.path("name").asText()));
        return out;
    }
}
