package io.remora.bolt;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.remoting.rpc.RpcClient;
import com.alipay.sofa.rpc.core.exception.SofaRpcException;
import com.alipay.sofa.rpc.core.exception.SofaTimeOutException;
import io.remora.bolt.testing.BoltEchoServer;
import io.remora.bolt.testing.BoltFrames;
import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.HelloServiceImpl;
import io.remora.bolt.testing.RawBoltClient;
import io.remora.bolt.testing.RawBoltServer;
import io.remora.testkit.sofa.SofaRpcPeers;
import io.remora.bolt.testing.Vectors;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real SOFARPC and SOFA Bolt peers talking through an in-process sidecar on 127.0.0.1. */
class BoltProxyIntegrationTest {

    static final String HELLO = HelloService.class.getName() + ":1.0";
    static final String RAW = "raw.Service:1.0";

    static SofaRpcPeers peers;
    static HelloServiceImpl hello;
    static BoltEchoServer echo;
    static RawBoltServer raw;
    /** Upstream of the "mux" listener only, so its connection count is exact. */
    static BoltEchoServer mux;
    static int closedPort;
    static TestSidecar sidecar;
    static int port;
    static RpcClient boltClient;
    static HelloService helloViaSidecar;

    @BeforeAll
    static void start() throws Exception {
        peers = new SofaRpcPeers();
        hello = new HelloServiceImpl();
        int helloPort = peers.provide(HelloService.class, hello, null);
        echo = new BoltEchoServer();
        raw = new RawBoltServer();
        mux = new BoltEchoServer();
        closedPort = TestSidecar.freePort();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads":1, "log":{"level":"WARN"},
                 "listeners":[{"name":"egress_bolt","address":"127.0.0.1:0","protocol":"bolt","direction":"outbound",
                   "routes":[
                     {"match":{"service":"%s"},"cluster":"hello","timeout_ms":3000},
                     {"match":{"service":"%s:down"},"cluster":"down"},
                     {"match":{"service":"java.lang.String"},"cluster":"echo"},
                     {"match":{"service":"%s"},"cluster":"raw"}]},
                   {"name":"mux","address":"127.0.0.1:0","protocol":"bolt",
                    "routes":[{"match":{"service":"*"},"cluster":"mux"}]},
                   {"name":"auto","address":"127.0.0.1:0","protocol":"auto",
                    "routes":[{"match":{"service":"%s"},"cluster":"hello"}]}],
                 "clusters":[
                   {"name":"mux","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"hello","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"down","connect_timeout_ms":1000,"hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"raw","heartbeat_interval_ms":0,"hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(HELLO, HELLO, RAW, HELLO, mux.port(), helloPort, closedPort, echo.port(), raw.port()));
        port = sidecar.port("egress_bolt");
        boltClient = new RpcClient();
        boltClient.startup();
        helloViaSidecar = peers.consumer(HelloService.class, port, 3000);
    }

    @AfterAll
    static void stop() throws Exception {
        if (boltClient != null) {
            boltClient.shutdown();
        }
        if (peers != null) {
            peers.close();
        }
        if (sidecar != null) {
            sidecar.close();
        }
        if (echo != null) {
            echo.close();
        }
        if (raw != null) {
            raw.close();
        }
        if (mux != null) {
            mux.close();
        }
    }

    @Test
    void sofaRpcSyncCallGoesThroughTheSidecar() {
        assertEquals("hello world", helloViaSidecar.sayHello("world"));
        assertEquals("hello 世界 😀", helloViaSidecar.sayHello("世界 😀"));
    }

    @Test
    void autoListenerDetectsBolt() throws Exception {
        HelloService viaAuto = peers.consumer(HelloService.class, sidecar.port("auto"), 3000);
        assertEquals("hello auto", viaAuto.sayHello("auto"));
        try (RawBoltClient c = new RawBoltClient(sidecar.port("auto"), 5000)) {
            assertArrayEquals(Vectors.load("bolt_v1_heartbeat_ack.bin"),
                    c.send(Vectors.load("bolt_v1_heartbeat.bin")).read());
        }
    }

    @Test
    void plainBoltClientIsRoutedByClassName() throws Exception {
        assertEquals("echo:plain", boltClient.invokeSync("127.0.0.1:" + port, "plain", 3000));
    }

    @Test
    void onewayReachesTheProviderAndNothingIsWrittenBack() throws Exception {
        HelloService oneway = peers.consumer(HelloService.class, port, 3000, null, "oneway");
        oneway.notify("fire-and-forget");
        assertEquals("notify:fire-and-forget", pollFor(hello.calls(), "notify:fire-and-forget"));

        raw.received().clear();
        try (RawBoltClient c = new RawBoltClient(port, 3000)) {
            c.send(BoltFrames.build(BoltFrames.Spec.request(3, 1000, "x.Req", Map.of("service", RAW),
                    new byte[] {4}).oneway()));
            byte[] forwarded = raw.received().poll(5, TimeUnit.SECONDS);
            assertNotNull(forwarded);
            assertEquals(2, BoltFrames.type(forwarded));
            c.send(Vectors.load("bolt_v1_heartbeat.bin")); // id 7: the first thing back must be its ack
            byte[] first = c.read();
            assertArrayEquals(Vectors.load("bolt_v1_heartbeat_ack.bin"), first);
        }
        boltClient.oneway("127.0.0.1:" + port, "one-way-bolt");
        assertEquals("one-way-bolt", pollFor(echo.received(), "one-way-bolt"));
    }

    @Test
    void carriesA4MegabytePayload() {
        byte[] data = new byte[4 * 1024 * 1024];
        new Random(42).nextBytes(data);
        HelloService big = peers.consumer(HelloService.class, port, 10_000);
        assertArrayEquals(data, big.echo(data));
    }

    @Test
    void forwardsBoltV2FramesWithAndWithoutCrc() throws Exception {
        assertEquals("echo:v2-crc",
                boltClient.invokeSync("127.0.0.1:" + port + "?_PROTOCOL=2&_VERSION=2", "v2-crc", 3000));
        assertEquals("echo:v2-plain",
                boltClient.invokeSync("127.0.0.1:" + port + "?_PROTOCOL=2&_VERSION=1", "v2-plain", 3000));
        assertEquals("echo:v1", boltClient.invokeSync("127.0.0.1:" + port, "v1", 3000));
    }

    @Test
    void recomputesCrcOnBothLegsForCraftedV2Frames() throws Exception {
        for (int switchByte : new int[] {1, 0}) {
            byte[] req = BoltFrames.build(BoltFrames.Spec.request(0x12345678, 2000, "x.Req",
                    Map.of("service", RAW), new byte[] {1, 2, 3}).v2(2, switchByte));
            raw.received().clear();
            try (RawBoltClient c = new RawBoltClient(port, 5000)) {
                byte[] resp = c.send(req).read();
                byte[] forwarded = raw.received().poll(5, TimeUnit.SECONDS);
                assertNotNull(forwarded);
                assertEquals(req.length, forwarded.length);
                assertEquals(switchByte == 1, BoltFrames.crcPresent(forwarded));
                if (switchByte == 1) {
                    assertEquals(BoltFrames.crc(forwarded, forwarded.length - 4),
                            java.nio.ByteBuffer.wrap(forwarded).getInt(forwarded.length - 4));
                    assertEquals(BoltFrames.crc(resp, resp.length - 4),
                            java.nio.ByteBuffer.wrap(resp).getInt(resp.length - 4));
                }
                assertEquals(2, resp[0]);
                assertEquals(0x12345678, BoltFrames.id(resp));
                assertEquals(0, BoltFrames.timeoutOrStatus(resp));
            }
        }
    }

    @Test
    void forwardsTheRemainingTimeoutNotTheOriginal() throws Exception {
        byte[] req = BoltFrames.build(BoltFrames.Spec.request(77, 2500, "x.Req", Map.of("service", RAW),
                new byte[] {9}));
        raw.received().clear();
        try (RawBoltClient c = new RawBoltClient(port, 5000)) {
            byte[] resp = c.send(req).read();
            assertEquals(77, BoltFrames.id(resp));
        }
        byte[] forwarded = raw.received().poll(5, TimeUnit.SECONDS);
        assertNotNull(forwarded);
        int timeout = BoltFrames.timeoutOrStatus(forwarded);
        assertTrue(timeout <= 2500 && timeout > 2000, "forwarded timeout " + timeout);
    }

    @Test
    void silentUpstreamGetsBoltTimeoutStatusWithTheCallersId() throws Exception {
        byte[] req = BoltFrames.build(BoltFrames.Spec.request(4242, 300, RawBoltServer.SILENT_CLASS,
                Map.of("service", RAW), new byte[] {1}));
        try (RawBoltClient c = new RawBoltClient(port, 5000)) {
            long t0 = System.nanoTime();
            byte[] resp = c.send(req).read();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(4242, BoltFrames.id(resp));
            assertEquals(0x0007, BoltFrames.timeoutOrStatus(resp));
            assertEquals(20, resp.length);
            assertTrue(ms >= 250 && ms < 2500, "answered after " + ms + " ms");
        }
    }

    @Test
    void answersHeartbeatLocallyAndNeverForwardsIt() throws Exception {
        raw.received().clear();
        byte[] v2hb = BoltFrames.build(new BoltFrames.Spec(true, 2, 1, 1, 0, 99, -1, null, null, null));
        try (RawBoltClient c = new RawBoltClient(port, 5000)) {
            assertArrayEquals(Vectors.load("bolt_v1_heartbeat_ack.bin"), c.send(Vectors.load("bolt_v1_heartbeat.bin"))
                    .read());
            byte[] ack = c.send(v2hb).read();
            assertEquals(2, ack[0]);
            assertEquals(2, ack[1]);
            assertEquals(99, BoltFrames.id(ack));
            assertEquals(0, BoltFrames.cmd(ack));
            assertEquals(BoltFrames.crc(ack, ack.length - 4), java.nio.ByteBuffer.wrap(ack).getInt(ack.length - 4));
            // a request after the heartbeats: the upstream's first frame must be it, not a heartbeat
            c.send(BoltFrames.build(BoltFrames.Spec.request(5, 1000, "x.Req", Map.of("service", RAW), null)));
            assertEquals(5, BoltFrames.id(c.read()));
        }
        byte[] first = raw.received().poll(5, TimeUnit.SECONDS);
        assertEquals(1, BoltFrames.cmd(first));
        assertNull(raw.received().poll());
    }

    @Test
    void providerDownGivesAClearErrorQuickly() {
        HelloService down = peers.consumer(HelloService.class, port, 3000, "down", null);
        long t0 = System.nanoTime();
        SofaRpcException e = assertThrows(SofaRpcException.class, () -> down.sayHello("x"));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(e.getMessage().contains("cluster down") && e.getMessage().contains("127.0.0.1:" + closedPort),
                e.getMessage());
        assertTrue(ms < 2500, "took " + ms + " ms");
    }

    @Test
    void noRouteNamesTheService() {
        HelloService nowhere = peers.consumer(HelloService.class, port, 3000, "nowhere", null);
        SofaRpcException e = assertThrows(SofaRpcException.class, () -> nowhere.sayHello("x"));
        assertTrue(e.getMessage().contains("no route for service " + HELLO + ":nowhere"), e.getMessage());
    }

    @Test
    void slowUpstreamTimesOutAtTheCallersTimeout() {
        HelloService impatient = peers.consumer(HelloService.class, port, 500);
        long t0 = System.nanoTime();
        assertThrows(SofaTimeOutException.class, () -> impatient.slow(3000));
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(ms >= 400 && ms <= 2500, "timed out after " + ms + " ms");
    }

    @Test
    void malformedAndOversizedFramesCloseOnlyTheirConnection() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger ok = new AtomicInteger();
        ExecutorService bg = Executors.newSingleThreadExecutor();
        Future<?> healthy = bg.submit(() -> {
            while (!stop.get()) {
                assertEquals("hello steady", helloViaSidecar.sayHello("steady"));
                ok.incrementAndGet();
            }
            return null;
        });
        try {
            try (RawBoltClient garbage = new RawBoltClient(port, 5000)) {
                garbage.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
                assertTrue(garbage.awaitClosed());
            }
            try (RawBoltClient huge = new RawBoltClient(port, 5000)) {
                byte[] header = BoltFrames.build(BoltFrames.Spec.request(1, 1000, null, null, null));
                java.nio.ByteBuffer.wrap(header).putInt(18, 512 * 1024 * 1024); // declares 512 MiB of content
                huge.send(header);
                assertTrue(huge.awaitClosed());
            }
            try (RawBoltClient badVersion = new RawBoltClient(port, 5000)) {
                badVersion.send(new byte[] {2, 9, 1, 0, 1});
                assertTrue(badVersion.awaitClosed());
            }
            int before = ok.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (ok.get() < before + 3 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        } finally {
            stop.set(true);
            healthy.get(10, TimeUnit.SECONDS);
            bg.shutdownNow();
        }
        assertTrue(ok.get() >= 3, "healthy calls: " + ok.get());
        // rate-limited, one line per kind of malformation: limits.log
        String log = java.nio.file.Files.readString(sidecar.logDir().resolve("limits.log"));
        assertTrue(log.contains("malformed bolt frame: unknown bolt protocol code 0x47"), log);
        assertTrue(log.contains("exceeds the limit of"), log);
        assertTrue(log.contains("unknown bolt v2 protocol version ver1=9"), log);
    }

    @Test
    void multiplexes200CallsFrom20ConnectionsOntoOneUpstream() throws Exception {
        int muxPort = sidecar.port("mux"); // one worker loop: one upstream connection per host
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int c = 0; c < 20; c++) {
                int client = c;
                results.add(pool.submit(() -> {
                    try (RawBoltClient rc = new RawBoltClient(muxPort, 10_000)) {
                        for (int id = 1; id <= 10; id++) { // every client uses ids 1..10: they all collide
                            rc.send(BoltFrames.stringRequest(id, 5000, "c" + client + "-r" + id));
                        }
                        boolean[] seen = new boolean[11];
                        for (int i = 0; i < 10; i++) {
                            byte[] resp = rc.read();
                            int id = BoltFrames.id(resp);
                            assertEquals(0, BoltFrames.timeoutOrStatus(resp));
                            assertEquals("echo:c" + client + "-r" + id, BoltFrames.unhessian(
                                    BoltFrames.content(resp)));
                            assertFalse(seen[id], "duplicate answer for id " + id);
                            seen[id] = true;
                        }
                        return 10;
                    }
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(200, total);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(200, mux.received().size());
        assertEquals(1, mux.connections());
    }

    /** Waits (5 s at most) for {@code expected} in a queue other tests may also feed; null if it never comes. */
    private static String pollFor(java.util.concurrent.BlockingQueue<String> q, String expected)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (;;) {
            long left = deadline - System.nanoTime();
            String s = q.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (s == null || s.equals(expected)) {
                return s;
            }
        }
    }
}
