package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.remora.testing.TestCerts;
import io.remora.testing.TestSidecar;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HTTP over TLS on both hops, with real clients: java.net.http over TLS (ALPN h2) to a TLS-terminating listener,
 * and an HTTP/2 upstream over mTLS (the h2 pool's TLS hook) to a second TLS listener in front of the app.
 */
class HttpTlsTest {

    static TestCerts pki;
    static HttpServer app;
    static TestSidecar sidecar;
    static HttpClient client;

    @BeforeAll
    static void start() throws Exception {
        pki = TestCerts.create("http-ca");
        Path[] server = pki.leaf("front", "DNS:localhost", "IP:127.0.0.1");
        Path[] mesh = pki.leaf("mesh", "URI:spiffe://cluster.local/ns/default/sa/app");
        app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        app.createContext("/", ex -> {
            byte[] body = ("app " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        app.start();
        int inbound = TestSidecar.freePort();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "listeners":[
                  {"name":"front","address":"127.0.0.1:0","protocol":"http",
                   "tls":{"cert_file":"%2$s","key_file":"%3$s","alpn":["h2","http/1.1"]},
                   "routes":[{"match":{"prefix":"/"},"cluster":"mesh_h2"}]},
                  {"name":"inbound","address":"127.0.0.1:%1$d","protocol":"http","direction":"inbound",
                   "tls":{"cert_file":"%4$s","key_file":"%5$s","ca_file":"%6$s","require_client_certificate":true,
                          "alpn":["h2"]},
                   "routes":[{"match":{"prefix":"/"},"cluster":"app"}]}],
                 "clusters":[
                  {"name":"mesh_h2","protocol":"http2","hosts":[{"address":"127.0.0.1:%1$d"}],
                   "tls":{"cert_file":"%4$s","key_file":"%5$s","ca_file":"%6$s","alpn":["h2"],
                          "subject_alt_names":["spiffe://cluster.local/ns/default/sa/app"]}},
                  {"name":"app","hosts":[{"address":"127.0.0.1:%7$d"}]}]}
                """.formatted(inbound, server[0], server[1], mesh[0], mesh[1], pki.ca(), app.getAddress().getPort()));
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(pki.ca())) {
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        client = HttpClient.newBuilder().sslContext(ctx).version(HttpClient.Version.HTTP_2)
                .connectTimeout(Duration.ofSeconds(5)).build();
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        app.stop(0);
    }

    @Test
    void httpsCallerThroughAnHttp2MtlsHopReachesThePlainApp() throws Exception {
        URI uri = URI.create("https://localhost:" + sidecar.port("front") + "/tls");
        for (int i = 0; i < 5; i++) {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("app /tls", r.body());
            assertEquals(HttpClient.Version.HTTP_2, r.version(), "h2 negotiated by ALPN on the TLS listener");
        }
        String stats = sidecar.admin("GET", "/api/v1/stats?prefix=remora_downstream_requests", null).body();
        assertTrue(stats.contains("inbound"), "the request crossed the mTLS hop: " + stats);
    }
}
