package io.remora.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.remora.testing.TestSidecar;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Istio's interception shape on loopback, with real sockets: a {@code use_original_dst} listener on 0.0.0.0 (a
 * connection to 127.0.0.x:P has original destination 127.0.0.x:P, as with TPROXY), a {@code bind_to_port: false}
 * listener it hands connections to, and filter chains matched on destination IP, SNI and transport protocol from a
 * real TLS ClientHello, HTTP detection, and the inspect timeout for a server-first protocol. Each upstream writes its
 * tag when a connection arrives.
 */
class FilterChainTrafficTest {

    private final List<ServerSocket> upstreams = new ArrayList<>();
    private final Map<String, Integer> ports = new TreeMap<>();
    private TestSidecar sidecar;
    private int port;

    @BeforeEach
    void setUp() throws Exception {
        for (String tag : List.of("handed", "b", "default", "tls_b", "tls_wild", "http", "raw")) {
            ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            upstreams.add(s);
            ports.put(tag, s.getLocalPort());
            Thread t = new Thread(() -> {
                while (!s.isClosed()) {
                    try {
                        Socket c = s.accept();
                        c.getOutputStream().write((tag + "\n").getBytes(StandardCharsets.UTF_8));
                        c.getOutputStream().flush();
                        c.close();
                    } catch (Exception e) {
                        return;
                    }
                }
            }, "upstream-" + tag);
            t.setDaemon(true);
            t.start();
        }
        port = TestSidecar.freePort();
        StringBuilder clusters = new StringBuilder();
        for (var e : ports.entrySet()) {
            clusters.append(clusters.isEmpty() ? "" : ",").append("{\"name\":\"").append(e.getKey())
                    .append("\",\"hosts\":[{\"address\":\"127.0.0.1:").append(e.getValue()).append("\"}]}");
        }
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "listeners":[
                  {"name":"virtualOutbound","address":"0.0.0.0:%1$d","use_original_dst":true,"inspect_timeout_ms":300,
                   "filter_chains":[
                     {"name":"to-b","match":{"prefix_ranges":["127.0.0.3/32"]},"protocol":"tcp","routes":[{"cluster":"b"}]},
                     {"name":"sni-exact","match":{"prefix_ranges":["127.0.0.5/32"],"transport_protocol":"tls",
                      "server_names":["b.example"]},"protocol":"tcp","routes":[{"cluster":"tls_b"}]},
                     {"name":"sni-wild","match":{"prefix_ranges":["127.0.0.5/32"],"transport_protocol":"tls",
                      "server_names":["*.example"]},"protocol":"tcp","routes":[{"cluster":"tls_wild"}]},
                     {"name":"http","match":{"prefix_ranges":["127.0.0.5/32"],"application_protocols":["http/1.1","h2c"]},
                      "protocol":"tcp","routes":[{"cluster":"http"}]},
                     {"name":"raw","match":{"prefix_ranges":["127.0.0.5/32"]},"protocol":"tcp","routes":[{"cluster":"raw"}]}],
                   "default_filter_chain":{"protocol":"tcp","routes":[{"cluster":"default"}]}},
                  {"name":"127.0.0.2_%1$d","address":"127.0.0.2:%1$d","bind_to_port":false,"protocol":"tcp",
                   "routes":[{"cluster":"handed"}]},
                  {"name":"strict","address":"127.0.0.1:0","filter_chains":[
                    {"match":{"destination_port":1},"protocol":"tcp","routes":[{"cluster":"b"}]}]}],
                 "clusters":[%2$s]}
                """.formatted(port, clusters));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (sidecar != null) {
            sidecar.close();
        }
        for (ServerSocket s : upstreams) {
            s.close();
        }
    }

    /** Connects to {@code ip}:port, sends {@code first} (may be empty), returns the upstream's tag. */
    private String via(String ip, byte[] first) throws Exception {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(ip, port), 2000);
            c.setSoTimeout(5000);
            if (first.length > 0) {
                c.getOutputStream().write(first);
                c.getOutputStream().flush();
            }
            return new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8)).readLine();
        }
    }

    /** A real TLS ClientHello from the JDK's TLS stack, with SNI {@code sni} and ALPN. */
    private static byte[] clientHello(String sni) throws Exception {
        SSLEngine e = SSLContext.getDefault().createSSLEngine(sni, 443);
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName(sni)));
        p.setApplicationProtocols(new String[] {"istio-peer-exchange", "istio"});
        e.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        out.flip();
        byte[] b = new byte[out.remaining()];
        out.get(b);
        return b;
    }

    @Test
    void originalDestinationPicksTheHandoffListenerAChainByAddressOrTheDefault() throws Exception {
        assertNull(sidecar.sidecar().listenerAddress("127.0.0.2_" + port), "bind_to_port false: no socket");
        assertEquals("handed", via("127.0.0.2", new byte[0]), "handed to the listener of the original destination");
        assertEquals("b", via("127.0.0.3", new byte[0]), "the virtual listener's chain for that address");
        assertEquals("default", via("127.0.0.4", new byte[0]), "no chain matches: the default chain");
    }

    @Test
    void aConnectionNoChainMatchesIsClosedAndCounted() throws Exception {
        try (Socket c = new Socket()) {
            c.connect(sidecar.listener("strict"), 2000);
            c.setSoTimeout(5000);
            assertEquals(-1, c.getInputStream().read(), "closed: no chain for its destination port, no default");
        }
        String stats = sidecar.admin("GET", "/api/v1/stats?prefix=remora_downstream_no_filter_chain_match", null)
                .body();
        org.junit.jupiter.api.Assertions.assertTrue(stats.contains("strict") && stats.matches("(?s).*1(\\.0)?.*"),
                stats);
    }

    @Test
    void tlsClientHelloSniAndHttpDetectionPickChainsWithoutTerminatingTls() throws Exception {
        assertEquals("tls_b", via("127.0.0.5", clientHello("b.example")), "exact SNI");
        assertEquals("tls_wild", via("127.0.0.5", clientHello("c.example")), "wildcard SNI");
        assertEquals("http", via("127.0.0.5", "GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.UTF_8)));
        assertEquals("raw", via("127.0.0.5", "\u0000\u0001binary".getBytes(StandardCharsets.UTF_8)));
        assertEquals("raw", via("127.0.0.5", new byte[0]),
                "a caller that sends nothing (server-first) is matched as plaintext after the inspect timeout");
    }
}
