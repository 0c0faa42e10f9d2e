package io.remora.examples.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.SidecarConfig;
import io.remora.examples.HelloConsumer;
import io.remora.examples.HelloProvider;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/xds-demo.sh in one JVM: the file control plane serves examples/xds/resources.json, a sidecar started from
 * examples/xds/bootstrap.json (on free ports) gets its whole config over xDS and proxies a real SOFARPC call.
 */
class XdsExampleTest {

    private static Path example(String name) {
        return Path.of(System.getProperty("remora.examples.xds", "xds"), name);
    }

    /** The example resource file with the listener on any free port and the endpoint on {@code providerPort}. */
    private static String resources(int providerPort) throws IOException {
        return Files.readString(example("resources.json"))
                .replace("\"port_value\": 13200", "\"port_value\": 0")
                .replace("\"port_value\": 13199", "\"port_value\": " + providerPort);
    }

    /** The example bootstrap with the admin on a free port, logs in the test's directory, xDS at {@code cpPort}. */
    private static String bootstrap(int cpPort) throws IOException {
        ObjectNode root = (ObjectNode) ConfigLoader.mapper().readTree(Files.readString(example("bootstrap.json")));
        ((ObjectNode) root.get("admin")).put("port", 0);
        root.remove("log");
        ((ObjectNode) root.at("/extensions/xds")).put("address", "127.0.0.1:" + cpPort);
        return ConfigLoader.mapper().writeValueAsString(root);
    }

    @Test
    void exampleFilesAreValid() throws Exception {
        SidecarConfig boot = ConfigLoader.load(example("bootstrap.json"));
        assertEquals(34911, boot.admin().port().intValue());
        assertEquals("127.0.0.1:18000", boot.extensions().get("xds").get("address").asText());
        assertTrue((boot.listeners() == null || boot.listeners().isEmpty())
                && (boot.clusters() == null || boot.clusters().isEmpty()), "the bootstrap has no static resources");

        Snapshot s = FileControlPlane.load(Files.readString(example("resources.json")), "unused");
        assertEquals("1", s.clusters().version());
        assertEquals(1, s.listeners().resources().size());
        assertEquals(1, s.routes().resources().size());
        assertEquals(1, s.endpoints().resources().size());
    }

    @Test
    void proxiesSofaRpcCallConfiguredEntirelyOverXdsAndAppliesFileEdits(@TempDir Path dir) throws Exception {
        int providerPort = TestSidecar.freePort();
        Path file = dir.resolve("resources.json");
        Files.writeString(file, resources(providerPort));
        try (HelloProvider provider = HelloProvider.start(providerPort);
             FileControlPlane cp = new FileControlPlane(file, 0);
             TestSidecar sidecar = TestSidecar.start(bootstrap(cp.port()))) {
            await(() -> sidecar.admin("GET", "/ready", null).status() == 200);
            SidecarConfig applied = sidecar.sidecar().config().current().source();
            assertEquals(1024, applied.clusters().get(0).maxPendingRequests());
            assertEquals("hello-qps",
                    applied.extensions().get("governance").at("/rate_limit/0/name").asText());

            String target = "127.0.0.1:" + sidecar.port("egress_bolt");
            try (HelloConsumer consumer = HelloConsumer.connect(target, 10_000)) {
                assertEquals("hello remora", consumer.sayHello("remora"));

                // what xds-demo.sh does: edit the file; the control plane pushes version 2 (weight 1 -> 5)
                Files.writeString(file, resources(providerPort).replace("\"version\": \"1\"", "\"version\": \"2\"")
                        .replace("\"load_balancing_weight\": 1", "\"load_balancing_weight\": 5"));
                Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
                cp.reloadIfChanged();
                await(() -> sidecar.sidecar().config().current().source().clusters().get(0).hosts().get(0)
                        .weight() == 5);
                JsonNode xds = ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/xds", null).body());
                assertEquals("2", xds.at("/types/eds/version").asText(), xds.toString());
                assertEquals("2", xds.at("/types/eds/resources/hello_provider/version").asText(), xds.toString());
                assertEquals("hello again", consumer.sayHello("again"));
            }
        }
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(20);
        }
    }
}
