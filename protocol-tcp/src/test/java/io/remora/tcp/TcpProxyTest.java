package io.remora.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.BizContext;
import com.alipay.remoting.rpc.RpcClient;
import com.alipay.remoting.rpc.RpcServer;
import com.alipay.remoting.rpc.protocol.SyncUserProcessor;
import io.remora.testing.TestSidecar;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tcp protocol with real sockets: a real SOFA Bolt client and server through it, half-close, refusal, idle. */
class TcpProxyTest {

    private TestSidecar sidecar;

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
    }

    private TestSidecar start(int upstreamPort, long idleMs) throws Exception {
        return TestSidecar.start("""
                {"admin":{"port":0},"worker_threads":1,
                 "listeners":[{"name":"tcp_in","address":"127.0.0.1:0","protocol":"tcp","idle_timeout_ms":%d,
                               "routes":[{"match":{},"cluster":"provider"}]}],
                 "clusters":[{"name":"provider","connect_timeout_ms":1000,
                              "hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(idleMs, upstreamPort));
    }

    @Test
    void boltCallThroughATcpListenerReachesTheRealProviderAndCountsBytes() throws Exception {
        RpcServer server = new RpcServer("127.0.0.1", TestSidecar.freePort(), false);
        server.registerUserProcessor(new SyncUserProcessor<String>() {
            @Override
            public Object handleRequest(BizContext ctx, String request) {
                return "echo:" + request;
            }

            @Override
            public String interest() {
                return String.class.getName();
            }
        });
        server.startup();
        RpcClient client = new RpcClient();
        client.startup();
        try {
            sidecar = start(server.port(), 60_000);
            String target = "127.0.0.1:" + sidecar.port("tcp_in");
            for (int i = 0; i < 20; i++) {
                assertEquals("echo:hi" + i, client.invokeSync(target, "hi" + i, 3000));
            }
            String stats = sidecar.admin("GET", "/api/v1/stats?prefix=remora_downstream_", null).body();
            assertTrue(stats.contains("remora_downstream_received"), stats);
            assertTrue(sidecar.sidecar().listeners().slot("tcp_in").connections().size() >= 1,
                    "the proxied connection is registered with its listener");
        } finally {
            client.shutdown();
            server.shutdown();
        }
    }

    @Test
    void halfCloseIsPassedOnAndTheReplyStillArrives() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Socket s = upstream.accept()) {
                    byte[] all = s.getInputStream().readAllBytes(); // until the caller's FIN arrives through us
                    s.getOutputStream().write(("got " + all.length + " bytes").getBytes(StandardCharsets.UTF_8));
                    s.getOutputStream().flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            sidecar = start(upstream.getLocalPort(), 60_000);
            try (Socket c = new Socket()) {
                c.connect(sidecar.listener("tcp_in"), 2000);
                c.setSoTimeout(5000);
                c.getOutputStream().write("hello".getBytes(StandardCharsets.UTF_8));
                c.shutdownOutput();
                assertEquals("got 5 bytes", new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
            served.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void anUpstreamThatRefusesClosesTheCallersConnection() throws Exception {
        int closed = TestSidecar.freePort();
        sidecar = start(closed, 60_000);
        try (Socket c = new Socket()) {
            c.connect(sidecar.listener("tcp_in"), 2000);
            c.setSoTimeout(5000);
            assertEquals(-1, c.getInputStream().read(), "closed once the connect was refused");
        }
        String clusters = sidecar.admin("GET", "/api/v1/clusters", null).body();
        assertTrue(clusters.contains("provider"), clusters);
    }

    @Test
    void anIdleConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Integer> upstreamSaw = CompletableFuture.supplyAsync(() -> {
                try (Socket s = upstream.accept()) {
                    s.setSoTimeout(10_000);
                    return s.getInputStream().read(); // -1 when the sidecar closes its side
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            sidecar = start(upstream.getLocalPort(), 300);
            try (Socket c = new Socket()) {
                c.connect(sidecar.listener("tcp_in"), 2000);
                c.setSoTimeout(10_000);
                long t0 = System.nanoTime();
                InputStream in = c.getInputStream();
                assertEquals(-1, in.read());
                long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                assertTrue(ms >= 250, "closed after " + ms + " ms, before the idle timeout");
            }
            assertEquals(-1, upstreamSaw.get(10, TimeUnit.SECONDS), "the upstream side is closed too");
        }
    }

    @Test
    void bytesFlowBothWaysUnderBackPressure() throws Exception {
        byte[] payload = new byte[8 * 1024 * 1024];
        new java.util.Random(7).nextBytes(payload);
        try (ServerSocket upstream = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> echo = CompletableFuture.runAsync(() -> {
                try (Socket s = upstream.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                    s.shutdownOutput();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            sidecar = start(upstream.getLocalPort(), 60_000);
            try (Socket c = new Socket()) {
                c.connect(sidecar.listener("tcp_in"), 2000);
                c.setSoTimeout(20_000);
                CompletableFuture<byte[]> back = CompletableFuture.supplyAsync(() -> {
                    try {
                        ByteArrayOutputStream out = new ByteArrayOutputStream();
                        c.getInputStream().transferTo(out);
                        return out.toByteArray();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(200); // the reader is slow to start: the sidecar must hold back, not buffer everything
                c.getOutputStream().write(payload);
                c.shutdownOutput();
                assertTrue(java.util.Arrays.equals(payload, back.get(20, TimeUnit.SECONDS)));
            }
            echo.get(5, TimeUnit.SECONDS);
        }
    }
}
