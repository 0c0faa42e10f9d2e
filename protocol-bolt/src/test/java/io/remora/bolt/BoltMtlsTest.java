package io.remora.bolt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.rpc.RpcClient;
import io.remora.bolt.testing.BoltEchoServer;
import io.remora.testing.TestCerts;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Mesh mTLS with real SOFA Bolt peers: caller → sidecar "egress" (plain Bolt) → mTLS (the cluster's client
 * certificate, the provider's SAN checked) → sidecar "ingress" (terminates TLS, requires a client certificate) → the
 * provider (plain Bolt). Certificates come from a test CA made with openssl.
 */
class BoltMtlsTest {

    static TestCerts pki;
    static BoltEchoServer app;
    static TestSidecar sidecar;
    static RpcClient client;
    static int ingressPort;

    @BeforeAll
    static void start() throws Exception {
        pki = TestCerts.create("mesh-ca");
        Path[] server = pki.leaf("provider", "DNS:provider.local", "URI:spiffe://cluster.local/ns/default/sa/provider");
        Path[] clientCert = pki.leaf("shop", "URI:spiffe://cluster.local/ns/default/sa/shop");
        app = new BoltEchoServer();
        ingressPort = TestSidecar.freePort();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "listeners":[
                  {"name":"egress","address":"127.0.0.1:0","protocol":"bolt",
                   "routes":[{"match":{"service":"*"},"cluster":"provider_mtls"}]},
                  {"name":"egress_wrong_san","address":"127.0.0.1:0","protocol":"bolt",
                   "routes":[{"match":{"service":"*"},"cluster":"provider_other_san"}]},
                  {"name":"ingress","address":"127.0.0.1:%1$d","protocol":"bolt","direction":"inbound",
                   "tls":{"cert_file":"%2$s","key_file":"%3$s","ca_file":"%4$s","require_client_certificate":true},
                   "routes":[{"match":{"service":"*"},"cluster":"app"}]}],
                 "clusters":[
                  {"name":"provider_mtls","protocol":"bolt","hosts":[{"address":"127.0.0.1:%1$d"}],
                   "health_check":{"type":"heartbeat","interval_ms":100,"timeout_ms":1000,"unhealthy_threshold":1},
                   "tls":{"cert_file":"%5$s","key_file":"%6$s","ca_file":"%4$s","sni":"provider.local",
                          "subject_alt_names":["spiffe://cluster.local/ns/default/sa/provider"]}},
                  {"name":"provider_other_san","protocol":"bolt","hosts":[{"address":"127.0.0.1:%1$d"}],
                   "tls":{"cert_file":"%5$s","key_file":"%6$s","ca_file":"%4$s",
                          "subject_alt_names":["spiffe://cluster.local/ns/default/sa/somebody-else"]}},
                  {"name":"app","protocol":"bolt","hosts":[{"address":"127.0.0.1:%7$d"}]}]}
                """.formatted(ingressPort, server[0], server[1], pki.ca(), clientCert[0], clientCert[1], app.port()));
        client = new RpcClient();
        client.startup();
    }

    @AfterAll
    static void stop() {
        client.shutdown();
        sidecar.close();
        app.close();
    }

    @Test
    void boltCallCrossesTheMeshOverMutualTls() throws Exception {
        String egress = "127.0.0.1:" + sidecar.port("egress");
        for (int i = 0; i < 10; i++) {
            assertEquals("echo:m" + i, client.invokeSync(egress, "m" + i, 3000));
        }
        String dump = sidecar.admin("GET", "/api/v1/config_dump", null).body();
        assertTrue(dump.contains("cert_file"), "file names are shown");
        assertTrue(!dump.contains("BEGIN"), "never PEM material");
    }

    @Test
    void heartbeatHealthChecksToATlsHostSpeakTls() throws Exception {
        io.remora.core.cluster.Host h = sidecar.sidecar().config().current().cluster("provider_mtls").hosts()[0];
        Thread.sleep(600); // several 100 ms probes: one plaintext heartbeat to the TLS port would fail the host
        assertTrue(!h.failedHealthCheck(), "the heartbeat probe went over mTLS and was answered");
    }

    @Test
    void theIngressRejectsACallerWithoutAClientCertificate() throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = java.nio.file.Files.newInputStream(pki.ca())) {
            trust.setCertificateEntry("ca", java.security.cert.CertificateFactory.getInstance("X.509")
                    .generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
            s.connect(new InetSocketAddress("127.0.0.1", ingressPort), 2000);
            s.setSoTimeout(5000);
            // TLS 1.3: the client's handshake may finish before the server's alert; the first read then fails
            assertThrows(IOException.class, () -> {
                s.startHandshake();
                s.getOutputStream().write(1);
                s.getOutputStream().flush();
                if (s.getInputStream().read() == -1) {
                    throw new IOException("closed");
                }
            });
        }
        // and a plaintext Bolt caller gets nothing from a TLS port
        assertThrows(Exception.class, () -> client.invokeSync("127.0.0.1:" + ingressPort, "plain", 1000));
    }

    @Test
    void anUpstreamWhoseCertificateLacksTheExpectedSanIsRefused() throws Exception {
        Object reply;
        try {
            reply = client.invokeSync("127.0.0.1:" + sidecar.port("egress_wrong_san"), "x", 2000);
        } catch (Exception e) {
            reply = e;
        }
        // the sidecar answers with its native error (a SOFARPC error response), never the provider's echo
        assertTrue(!"echo:x".equals(reply), String.valueOf(reply));
        assertTrue(app.received().stream().noneMatch("x"::equals), "the request never reached the provider");
    }
}
