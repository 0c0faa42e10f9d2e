package io.remora.xds;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.remora.core.config.ConfigSnapshot;
import io.remora.testing.TestSidecar;
import io.remora.xds.controlplane.FileControlPlane;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileControlPlaneTest {

    @Test
    void servesTheExampleFileAndPushesItsChanges(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("resources.json");
        String example;
        try (InputStream in = getClass().getResourceAsStream("/xds/example-resources.json")) {
            example = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Files.writeString(file, example);
        try (FileControlPlane cp = new FileControlPlane(file, 0);
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},"node":{"id":"sidecar~127.0.0.1~demo.default~default.svc.cluster.local"},
                      "extensions":{"xds":{"address":"127.0.0.1:%d"}}}""".formatted(cp.port()))) {
            await(() -> sidecar.admin("GET", "/ready", null).status() == 200);
            ConfigSnapshot s = sidecar.sidecar().config().current();
            assertEquals(1024, s.source().clusters().get(0).maxPendingRequests());
            assertEquals(100, s.source().extensions().get("governance").at("/rate_limit/0/qps").intValue());

            Files.writeString(file, example.replace("\"version\": \"1\"", "\"version\": \"2\"")
                    .replace("12199", "12198"));
            Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
            cp.reloadIfChanged();
            await(() -> sidecar.sidecar().config().current().source().clusters().get(0).hosts().get(0).address()
                    .equals("127.0.0.1:12198"));
        }
    }

    private static void await(java.util.function.BooleanSupplier c) throws InterruptedException {
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (!c.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out");
            }
            Thread.sleep(20);
        }
    }
}
