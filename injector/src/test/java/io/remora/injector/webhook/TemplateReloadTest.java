package io.remora.injector.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.Pods;
import io.remora.injector.inject.InjectionConfig;
import io.remora.injector.inject.InjectionConfigSource;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The template ConfigMap changing under a running webhook, written the way kubelet updates a ConfigMap volume:
 * a new timestamped directory, then the {@code ..data} symlink swapped in one rename.
 */
class TemplateReloadTest {

    private static final String TEMPLATE = InjectionConfig.resource(InjectionConfig.BUNDLED_TEMPLATE);
    private static final String VALUES = InjectionConfig.resource(InjectionConfig.BUNDLED_VALUES);

    @TempDir
    Path mount;

    private int generation;

    @Test
    void reloadsChangedTemplateAndValuesAndKeepsTheLastGoodOnABrokenEdit() throws Exception {
        publish(TEMPLATE, VALUES);
        InjectionConfigSource source = InjectionConfigSource.files(mount.resolve("template.yaml"),
                mount.resolve("values.yaml"));
        try (WebhookServer server = WebhookServer.start(WebhookServer.Options.plain(new InetSocketAddress("127.0.0.1",
                0))
                .withReloadInterval(Duration.ofMillis(50)), source)) {
            URI base = URI.create("http://127.0.0.1:" + server.address().getPort());
            HttpClient http = HttpClient.newHttpClient();
            Reviews reviews = new Reviews(http, base);
            String v1 = source.get().version();
            assertEquals("registry.example.com/remora:0.1.0", sidecar(reviews).path("image").asText());

            // kubectl apply of the ConfigMap: a new image in values.yaml, an extra annotation in template.yaml
            publish(TEMPLATE + "annotations:\n  prometheus.io/scrape: \"false\"\n",
                    VALUES.replace("image: registry.example.com/remora:0.1.0",
                            "image: registry.example.com/remora:0.3.0"));
            await(() -> !source.get().version().equals(v1), "the new config is loaded");
            ObjectNode pod = Pods.app();
            JsonNode out = reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod);
            assertEquals("registry.example.com/remora:0.3.0", Pods.container(out, "initContainers",
                    "remora").path("image").asText());
            assertEquals("false", out.at("/metadata/annotations").path("prometheus.io/scrape").asText());
            String v2 = source.get().version();
            assertTrue(out.at("/metadata/annotations").path("remora.io/status").asText().contains(v2),
                    "status names the version");

            // a broken edit: logged, counted, and the last good config keeps serving
            publish(TEMPLATE.replace("{{ image }}", "{{ image"), VALUES);
            await(() -> source.failedReloads() > 0, "the broken config is seen");
            assertTrue(source.lastError().contains("unclosed {{"), source.lastError());
            assertEquals(v2, source.get().version());
            assertEquals("registry.example.com/remora:0.3.0", sidecar(reviews).path("image").asText());
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(metrics.body().contains("remora_injector_config_reloads_total{result=\"failed\"} 1"),
                    metrics.body());
            assertTrue(metrics.body().contains("remora_injector_config_info{version=\"" + v2 + "\"} 1"),
                    metrics.body());

            // fixed again
            publish(TEMPLATE, VALUES);
            await(() -> source.lastError() == null, "the fixed config is loaded");
            assertNotEquals(v2, source.get().version());
            assertEquals(v1, source.get().version(), "the same files give the same version");
            assertEquals("registry.example.com/remora:0.1.0", sidecar(reviews).path("image").asText());
        }
    }

    private static JsonNode sidecar(Reviews reviews) throws Exception {
        ObjectNode pod = Pods.app();
        return Pods.container(reviews.send(Reviews.podCreate(pod, "shop")).applyTo(pod), "initContainers", "remora");
    }

    /** Kubelet's atomic ConfigMap update: ..<generation>/ with the keys, ..data -> it, key -> ..data/key. */
    private void publish(String template, String values) throws Exception {
        Path gen = mount.resolve("..2026_01_01_00_00_0" + (++generation));
        Files.createDirectory(gen);
        Files.writeString(gen.resolve("template.yaml"), template);
        Files.writeString(gen.resolve("values.yaml"), values);
        Path tmpLink = mount.resolve("..data_tmp");
        Files.createSymbolicLink(tmpLink, gen.getFileName());
        Files.move(tmpLink, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        for (String key : new String[] {"template.yaml", "values.yaml"}) {
            Path link = mount.resolve(key);
            if (!Files.isSymbolicLink(link)) Files.createSymbolicLink(link, Path.of("..data", key));
        }
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting: " + what);
            Thread.sleep(10); // the poller runs every 50 ms
        }
    }
}
