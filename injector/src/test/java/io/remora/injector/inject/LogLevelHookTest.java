package io.remora.injector.inject;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import io.remora.injector.Pods;
import java.io.File;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The postStart hook rendered for {@code sidecar.remora.io/logLevel}, run with bash against an HTTP server standing in
 * for the sidecar's admin port: it must POST update_loglevel (the admin API's own request) and exit 0.
 */
class LogLevelHookTest {

    @Test
    void hookSetsTheLogLevelThroughTheAdminApi() throws Exception {
        assumeTrue(new File("/bin/bash").canExecute(), "no /bin/bash");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String values = InjectionConfig.resource(InjectionConfig.BUNDLED_VALUES)
                .replace("adminPort: 34901", "adminPort: " + port);
        InjectionConfig cfg = InjectionConfig.parse(InjectionConfig.resource(InjectionConfig.BUNDLED_TEMPLATE), values);
        ObjectNode pod = Pods.withAnnotations(Pods.app(), "sidecar.remora.io/logLevel", "debug");
        InjectionResult r = new PodInjector(() -> cfg).inject(pod, "shop");
        ObjectNode injected = pod.deepCopy();
        JsonPatches.apply(injected, r.patch());
        JsonNode command = Pods.container(injected, "initContainers", "remora").at("/lifecycle/postStart/exec/command");
        List<String> cmd = new ArrayList<>();
        command.forEach(c -> cmd.add(c.asText()));
        assertEquals("/bin/bash", cmd.get(0));

        BlockingQueue<String> seen = new ArrayBlockingQueue<>(4);
        HttpServer admin = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 8);
        admin.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            seen.add(ex.getRequestMethod() + " " + ex.getRequestURI().getPath() + " "
                    + ex.getRequestHeaders().getFirst("Content-Type") + " " + body);
            byte[] reply = "update logger success".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, reply.length);
            ex.getResponseBody().write(reply);
            ex.close();
        });
        admin.start();
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), "hook finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            assertEquals("POST /api/v1/update_loglevel application/json {\"log_level\":\"DEBUG\",\"log_path\":\"\"}",
                    seen.poll(5, TimeUnit.SECONDS));
            assertEquals(null, seen.poll(), "one request once answered 200");
        } finally {
            admin.stop(0);
        }
    }
}
