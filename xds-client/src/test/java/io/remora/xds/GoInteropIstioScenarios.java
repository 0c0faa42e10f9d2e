package io.remora.xds;

import static io.remora.xds.controlplane.GoControlPlane.CLUSTER;
import static io.remora.xds.controlplane.GoControlPlane.ENDPOINT;
import static io.remora.xds.controlplane.GoControlPlane.LISTENER;
import static io.remora.xds.controlplane.GoControlPlane.ROUTE;
import static io.remora.xds.controlplane.GoControlPlane.SECRET;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.remora.core.config.ConfigLoader;
import io.remora.testing.TestCerts;
import io.remora.testing.TestSidecar;
import io.remora.xds.controlplane.GoControlPlane;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An Istio-shaped push ({@link IstioShapedPush}) from go-control-plane as a real process, ACKed whole and carrying
 * real traffic: HTTP through virtualOutbound → the per-destination HTTP listener → an {@code outbound|..} cluster over
 * mTLS with SDS-delivered certificates → virtualInbound's mTLS chain → the app; a SOFA Bolt call through the
 * virtualOutbound tcp_proxy chain; then an SDS rotation of the workload certificate with traffic continuing.
 */
abstract class GoInteropIstioScenarios {

    static {
        System.setProperty("jdk.httpclient.allowRestrictedHeaders", "host");
    }

    abstract String api();

    abstract GoControlPlane.Cache cache();

    /** Null: secrets over ADS; otherwise a unix socket path where the peer also serves SDS (istio-agent's shape). */
    Path sdsSocket() {
        return null;
    }

    GoControlPlane cp;
    TestSidecar sidecar;
    HttpServer app;
    RpcServer bolt;
    RpcClient boltClient;
    HttpClient http;
    TestCerts pki;
    int outPort;
    int inPort;

    @BeforeEach
    void setUp() throws Exception {
        app = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        app.createContext("/", ex -> {
            byte[] body = ("app " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        app.start();
        bolt = new RpcServer("127.0.0.1", TestSidecar.freePort(), false);
        bolt.registerUserProcessor(new SyncUserProcessor<String>() {
            @Override
            public Object handleRequest(BizContext ctx, String request) {
                return "bolt:" + request;
            }

            @Override
            public String interest() {
                return String.class.getName();
            }
        });
        bolt.startup();
        boltClient = new RpcClient();
        boltClient.startup();
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5))
                .build();
        pki = TestCerts.create("cluster.local");
        cp = sdsSocket() == null ? GoControlPlane.start(cache(), true) : GoControlPlane.start(cache(), true,
                sdsSocket());
        outPort = TestSidecar.freePort();
        inPort = TestSidecar.freePort();
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
        if (cp != null) {
            cp.close();
        }
        boltClient.shutdown();
        bolt.shutdown();
        app.stop(0);
    }

    private void push(String version, Path[] workload) throws Exception {
        cp.update(version, IstioShapedPush.all(outPort, inPort, app.getAddress().getPort(), bolt.port(),
                IstioShapedPush.certificate("default", workload[0], workload[1]), IstioShapedPush.rootCa(pki.ca())),
                List.of());
    }

    private TestSidecar startSidecar() throws Exception {
        return TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "node":{"id":"sidecar~127.0.0.1~shop-7d9f.prod~prod.svc.cluster.local","app":"shop"},
                 "extensions":{"xds":{"address":"127.0.0.1:%d","api":"%s","initial_fetch_timeout_ms":60000,%s
                   "warming_timeout_ms":60000,"metadata":{"ISTIO_VERSION":"1.24.0","INTERCEPTION_MODE":"TPROXY"}}}}
                """.formatted(cp.xdsPort(), api(), sdsSocket() == null ? ""
                        : "\"sds_address\":\"unix://" + sdsSocket() + "\","));
    }

    private String get(String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.2:" + outPort + path))
                .header("Host", "echo.prod.svc.cluster.local:9080").timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        return r.statusCode() + " " + r.body();
    }

    static void await(String what, BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    JsonNode xds() throws Exception {
        return ConfigLoader.mapper().readTree(sidecar.admin("GET", "/api/v1/xds", null).body());
    }

    /** The serial of the certificate virtualInbound presents to a mesh client (with a client certificate). */
    private BigInteger servedSerial(Path[] clientCert) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        X509Certificate c;
        try (var in = Files.newInputStream(clientCert[0])) {
            c = (X509Certificate) cf.generateCertificate(in);
        }
        String pem = Files.readString(clientCert[1]).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        ks.setKeyEntry("k", KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                Base64.getDecoder().decode(pem))), new char[0], new java.security.cert.Certificate[] {c});
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        try (var in = Files.newInputStream(pki.ca())) {
            trust.setCertificateEntry("ca", cf.generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", inPort)) {
            var p = s.getSSLParameters();
            p.setApplicationProtocols(new String[] {"istio-peer-exchange", "istio"});
            s.setSSLParameters(p);
            s.startHandshake();
            return ((X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }

    @Test
    void istioShapedPushIsAckedWholeAndCarriesMtlsHttpAndTcpProxyTrafficAcrossAnSdsRotation() throws Exception {
        Path[] first = pki.leaf("workload-1", "URI:" + IstioShapedPush.SA);
        push("v1", first);
        sidecar = startSidecar();
        await("ready", () -> sidecar.admin("GET", "/ready", null).status() == 200);
        for (String[] t : new String[][] {{SECRET, "default"}, {SECRET, "ROOTCA"}, {CLUSTER, IstioShapedPush.ECHO},
            {ENDPOINT, IstioShapedPush.ECHO}, {LISTENER, "virtualOutbound"}, {ROUTE, "9080"}}) {
            await("ACK of " + t[0] + " " + t[1], () -> cp.acked(t[0], t[1]));
        }
        if (sdsSocket() != null) {
            assertEquals("up", xds().path("sds_stream").asText(), xds().toString());
            java.util.Set<String> adsStreams = new java.util.HashSet<>();
            cp.requests(LISTENER).forEach(r -> adsStreams.add(r.path("stream").asText()));
            assertTrue(!cp.requests(SECRET).isEmpty() && cp.requests(SECRET).stream()
                    .noneMatch(r -> adsStreams.contains(r.path("stream").asText())),
                    "secrets asked for on their own stream: " + cp.requests(SECRET));
        }
        for (String type : List.of(CLUSTER, ENDPOINT, LISTENER, ROUTE, SECRET)) {
            assertTrue(cp.requests(type).stream().allMatch(r -> r.path("error").isNull()),
                    "no NACK of " + type + ": " + cp.requests(type));
        }
        assertNull(sidecar.sidecar().listenerAddress("127.0.0.2_" + outPort), "bind_to_port false is not bound");

        // HTTP: virtualOutbound → 127.0.0.2_port (HTTP detected) → outbound|9080||echo over mTLS → virtualInbound
        assertEquals("200 app /hello", get("/hello"));
        // Bolt through the tcp_proxy chain picked by destination address
        assertEquals("bolt:hi", boltClient.invokeSync("127.0.0.3:" + outPort, "hi", 3000));
        BigInteger firstSerial = servedSerial(first);

        // secrets never leave the process: not in the config dump, not in the xDS status
        String dump = sidecar.admin("GET", "/api/v1/config_dump", null).body();
        String status = sidecar.admin("GET", "/api/v1/xds", null).body();
        assertFalse(dump.contains("BEGIN") || status.contains("BEGIN"), "no PEM in admin output");
        assertTrue(dump.contains("cert_secret") && dump.contains("filter_chains"), dump);

        // rotation: a new workload certificate over SDS while calls keep flowing on kept-alive connections
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ok = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<?> load = pool.submit(() -> {
            while (!stop.get()) {
                try {
                    if (get("/during").equals("200 app /during")) {
                        ok.incrementAndGet();
                    } else {
                        failed.incrementAndGet();
                    }
                } catch (Exception e) {
                    failed.incrementAndGet();
                }
            }
        });
        await("some calls before the rotation", () -> ok.get() >= 5);
        Path[] second = pki.leaf("workload-2", "URI:" + IstioShapedPush.SA);
        push("v2", second);
        await("the rotated certificate served to new connections", () -> {
            try {
                return !servedSerial(second).equals(firstSerial);
            } catch (Exception e) {
                return false;
            }
        });
        BigInteger secondSerial = servedSerial(second);
        int before = ok.get();
        await("calls after the rotation", () -> ok.get() >= before + 5);
        stop.set(true);
        load.get();
        pool.shutdown();
        assertEquals(0, failed.get(), "no call failed across the rotation (" + ok.get() + " ok)");
        assertFalse(firstSerial.equals(secondSerial), "new connections get the rotated certificate");
        assertEquals("200 app /after", get("/after"));
        assertEquals("bolt:again", boltClient.invokeSync("127.0.0.3:" + outPort, "again", 3000));
    }
}
