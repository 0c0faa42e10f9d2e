package io.remora.examples.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.examples.BundledConfig;
import io.remora.testing.TestSidecar;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The demo's HTTP step in one JVM: HTTP client -> sidecar with the bundled egress_http routes -> HelloHttpProvider. */
class HelloHttpThroughSidecarTest {

    @Test
    void providerAnswersThroughBundledHttpRouteWithSidecarHeaders() throws Exception {
        int providerPort = TestSidecar.freePort();
        try (HelloHttpProvider provider = HelloHttpProvider.start(providerPort);
             TestSidecar sidecar = TestSidecar.start(BundledConfig.forTest("remora.json", Set.of("egress_http"),
                     Map.of("http_provider", providerPort)))) {
            // HTTP exchanges get their default.log line at DEBUG (RPC calls at INFO)
            TestSidecar.AdminReply raised = sidecar.admin("POST", "/api/v1/update_loglevel",
                    "{\"log_level\":\"DEBUG\",\"log_path\":\"\"}");
            assertEquals(200, raised.status(), raised.body());

            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + sidecar.port("egress_http") + "/hello?name=remora"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(200, r.statusCode());
            assertEquals("hello remora\n", r.body());
            // the sidecar generated a request id and appended the caller to X-Forwarded-For; the provider echoes both
            assertTrue(r.headers().firstValue("x-seen-request-id").orElse("").matches("[0-9a-f]{32}"),
                    r.headers().map().toString());
            assertEquals("127.0.0.1", r.headers().firstValue("x-seen-forwarded-for").orElse(""));
            // the line is written when the exchange completes, which may be just after the client has the response
            long deadline = System.nanoTime() + 10_000_000_000L;
            String log = Files.readString(sidecar.logDir().resolve("default.log"));
            while (!hasCallLine(log) && System.nanoTime() < deadline) {
                Thread.sleep(20);
                log = Files.readString(sidecar.logDir().resolve("default.log"));
            }
            assertTrue(hasCallLine(log), "default.log has no line for the call:\n" + log);
        }
    }

    private static boolean hasCallLine(String log) {
        return log.contains("egress_http http1 GET 127.0.0.1/hello") && log.contains("-> http_provider");
    }

    @Test
    void unknownPathIsTheProvidersNotFound() throws Exception {
        int providerPort = TestSidecar.freePort();
        try (HelloHttpProvider provider = HelloHttpProvider.start(providerPort);
             TestSidecar sidecar = TestSidecar.start(BundledConfig.forTest("remora.json", Set.of("egress_http"),
                     Map.of("http_provider", providerPort)))) {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                            "http://127.0.0.1:" + sidecar.port("egress_http") + "/nothing"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(404, r.statusCode());
            assertTrue(r.headers().firstValue("x-remora-error").isEmpty(), "the provider answered, not the sidecar");
        }
    }
}
