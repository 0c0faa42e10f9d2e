package io.remora.injector.webhook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.injector.KubeSchema;
import io.remora.injector.Pods;
import io.remora.injector.inject.InjectionConfigSource;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The webhook over HTTPS as the API server calls it: a certificate from deploy/k8s/injector-certs.sh (openssl),
 * verified against the CA that goes into caBundle, hostname checked. Also the key encodings Kubernetes secrets hold
 * and a certificate rotated on disk while serving.
 */
class WebhookTlsTest {

    @TempDir
    static Path dir;

    @BeforeAll
    static void needsOpenssl() throws Exception {
        assumeTrue(run(dir, "openssl", "version") == 0, "openssl is not installed");
    }

    @Test
    void servesAdmissionReviewsOverVerifiedTls() throws Exception {
        Path certs = dir.resolve("script");
        certScript(certs);
        try (WebhookServer server = tlsServer(certs.resolve("tls.crt"), certs.resolve("tls.key"),
                Duration.ofSeconds(60))) {
            HttpClient client = HttpClient.newBuilder().sslContext(trusting(certs.resolve("ca.crt"))).build();
            Reviews reviews = new Reviews(client, URI.create("https://127.0.0.1:" + server.address().getPort()));
            ObjectNode pod = Pods.app();
            Reviews.Answer a = reviews.send(Reviews.podCreate(pod, "shop"));
            assertEquals(200, a.status());
            assertNotNull(Pods.container(a.applyTo(pod), "initContainers", "remora"));

            // a client that does not trust the CA (the API server without caBundle) is refused
            HttpClient untrusting = HttpClient.newHttpClient();
            assertThrows(SSLHandshakeException.class,
                    () -> new Reviews(untrusting, URI.create("https://127.0.0.1:" + server.address().getPort()))
                            .send(Reviews.podCreate(Pods.app(), "shop")));
        }
    }

    @Test
    void reloadsARotatedCertificateWithoutRestart() throws Exception {
        Path certs = dir.resolve("rotate");
        certScript(certs);
        try (WebhookServer server = tlsServer(certs.resolve("tls.crt"), certs.resolve("tls.key"),
                Duration.ofMillis(50))) {
            SSLContext trust = trusting(certs.resolve("ca.crt"));
            X509Certificate first = served(trust, server);
            assertEquals(read(certs.resolve("tls.crt")).getSerialNumber(), first.getSerialNumber());

            certScript(certs); // same CA (reused from the directory), a new serving certificate
            X509Certificate renewed = read(certs.resolve("tls.crt"));
            assertNotEquals(first.getSerialNumber(), renewed.getSerialNumber());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            X509Certificate now = served(trust, server);
            while (!now.getSerialNumber().equals(renewed.getSerialNumber()) && System.nanoTime() < deadline) {
                Thread.sleep(20); // the poller re-reads the files every 50 ms
                now = served(trust, server);
            }
            assertEquals(renewed.getSerialNumber(), now.getSerialNumber(), "the renewed certificate is served");
        }
    }

    @Test
    void readsPkcs1RsaAndSec1EcKeys() throws Exception {
        Path rsa = dir.resolve("rsa");
        Files.createDirectories(rsa);
        assertEquals(0, run(rsa, "openssl", "genrsa", "-traditional", "-out", "tls.key", "2048"));
        Path ec = dir.resolve("ec");
        Files.createDirectories(ec);
        assertEquals(0, run(ec, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "tls.key"));
        for (Path d : List.of(rsa, ec)) {
            String header = Files.readAllLines(d.resolve("tls.key")).get(0);
            assertTrue(header.equals("-----BEGIN RSA PRIVATE KEY-----")
                    || header.equals("-----BEGIN EC PRIVATE KEY-----"), header);
            assertEquals(0, run(d, "openssl", "req", "-x509", "-key", "tls.key", "-out", "tls.crt", "-days", "1",
                    "-subj", "/CN=remora-injector", "-addext", "subjectAltName=IP:127.0.0.1"));
            try (WebhookServer server = tlsServer(d.resolve("tls.crt"), d.resolve("tls.key"), Duration.ofSeconds(60))) {
                X509Certificate got = served(trusting(d.resolve("tls.crt")), server);
                assertEquals(read(d.resolve("tls.crt")), got, d + ": served");
            }
        }
    }

    @Test
    void refusesToStartWithAKeyOfAnotherCertificate() throws Exception {
        Path a = dir.resolve("pair-a");
        Path b = dir.resolve("pair-b");
        certScript(a);
        certScript(b);
        GeneralSecurityException e = assertThrows(GeneralSecurityException.class,
                () -> tlsServer(a.resolve("tls.crt"), b.resolve("tls.key"), Duration.ofSeconds(60)));
        assertTrue(e.getMessage().contains("does not match"), e.getMessage());
    }

    private static WebhookServer tlsServer(Path cert, Path key, Duration reload) throws Exception {
        return WebhookServer.start(WebhookServer.Options.plain(new InetSocketAddress("127.0.0.1", 0))
                .withTls(cert, key).withReloadInterval(reload), InjectionConfigSource.bundled());
    }

    /** deploy/k8s/injector-certs.sh as documented for a local setup: files only, 127.0.0.1 as an extra name. */
    private static void certScript(Path out) throws Exception {
        Path script = KubeSchema.repoRoot().resolve("deploy/k8s/injector-certs.sh");
        assertEquals(0, run(dir, "bash", script.toString(), "--no-apply", "--out-dir", out.toString(), "--san",
                "IP:127.0.0.1"));
        for (String f : List.of("ca.crt", "ca.key", "tls.crt", "tls.key")) assertTrue(Files.exists(out.resolve(f)), f);
    }

    private static X509Certificate served(SSLContext trust, WebhookServer server) throws IOException {
        try (SSLSocket s = (SSLSocket) trust.getSocketFactory().createSocket("127.0.0.1", server.address().getPort())) {
            s.startHandshake();
            return (X509Certificate) s.getSession().getPeerCertificates()[0];
        }
    }

    private static SSLContext trusting(Path caPem) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setCertificateEntry("ca", read(caPem));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(ks);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        return ctx;
    }

    private static X509Certificate read(Path pem) throws Exception {
        try (InputStream in = Files.newInputStream(pem)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
    }

    private static int run(Path cwd, String... cmd) throws Exception {
        List<String> c = new ArrayList<>(List.of(cmd));
        Process p;
        try {
            p = new ProcessBuilder(c).directory(cwd.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            return 127;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + c);
        if (p.exitValue() != 0) System.err.println(String.join(" ", c) + ":\n" + out);
        return p.exitValue();
    }
}
