package io.remora.core.limits;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.internal.PlatformDependent;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.protocol.ProxyError;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestClient.Reply;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The process-wide limits and the overload manager over real sockets, with the engine's test protocol. */
class LimitsTest {

    private TestUpstream upstream;
    private TestSidecar sidecar;

    @BeforeEach
    void setUp() throws Exception {
        upstream = new TestUpstream();
    }

    @AfterEach
    void tearDown() {
        if (sidecar != null) {
            sidecar.close();
        }
        upstream.close();
    }

    private void start(String limits) throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads": 1, %s
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "routes":[{"match":{"service":"*"},"cluster":"echo","timeout_ms":5000}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(limits, upstream.port()));
    }

    private static int status(ProxyError e) {
        return 100 + e.ordinal();
    }

    private double metric(String line) throws Exception {
        for (String l : sidecar.admin("GET", "/metrics", null).body().split("\n")) {
            if (l.startsWith(line)) {
                return Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1));
            }
        }
        return 0;
    }

    private static boolean refused(TestClient c) throws IOException {
        c.soTimeout(3000);
        try {
            c.call(1, "svc", "echo", "x");
            return false;
        } catch (IOException e) {
            return true; // reset at accept: the read fails
        }
    }

    @Test
    void resetsConnectionsBeyondMaxConnectionsAndKeepsServingTheOthers() throws Exception {
        start("\"limits\": {\"max_connections\": 2},");
        try (TestClient a = new TestClient(sidecar.port("out")); TestClient b = new TestClient(sidecar.port("out"))) {
            assertTrue(a.call(1, "svc", "echo", "a").ok());
            assertTrue(b.call(1, "svc", "echo", "b").ok());
            try (TestClient c = new TestClient(sidecar.port("out"))) {
                assertTrue(refused(c), "the third connection is reset");
            }
            assertTrue(a.call(2, "svc", "echo", "a2").ok(), "admitted connections keep working");
            assertEquals(1.0, metric("remora_downstream_connections_rejected_total{listener=\"out\",reason=\"max_connections\"}"));
        }
        // closing frees the slot
        awaitOpenBelow(2);
        try (TestClient d = new TestClient(sidecar.port("out"))) {
            assertTrue(d.call(1, "svc", "echo", "d").ok());
        }
    }

    private void awaitOpenBelow(int n) throws InterruptedException {
        for (int i = 0; i < 200 && sidecar.sidecar().connectionLimits().open() >= n; i++) {
            Thread.sleep(10); // the close reaches the sidecar's loop asynchronously; nothing to await on
        }
    }

    @Test
    void resetsConnectionsAboveTheAcceptRate() throws Exception {
        start("\"limits\": {\"accept_per_second\": 5},");
        int served = 0;
        int refused = 0;
        List<TestClient> open = new ArrayList<>();
        try {
            for (int i = 0; i < 30; i++) {
                TestClient c = new TestClient(sidecar.port("out"));
                open.add(c);
                if (refused(c)) {
                    refused++;
                } else {
                    served++;
                }
            }
        } finally {
            for (TestClient c : open) {
                c.close();
            }
        }
        assertTrue(served >= 5 && served < 30, "a burst of one second's worth is served, the rest reset: " + served);
        assertEquals(refused, (int) metric(
                "remora_downstream_connections_rejected_total{listener=\"out\",reason=\"accept_rate\"}"));
    }

    @Test
    void answersRequestsBeyondMaxRequestsPerConnectionWithTheOverflowError() throws Exception {
        start("\"limits\": {\"max_requests_per_connection\": 2},");
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(0, 1, -1, "svc", "silent", "", "held");
            c.send(0, 2, -1, "svc", "silent", "", "held");
            c.send(0, 3, -1, "svc", "echo", "", "third");
            Reply r = c.read();
            assertEquals(3, r.id());
            assertEquals(status(ProxyError.OVERFLOW), r.status(), r.toString());
            assertTrue(r.payload().contains("too many requests in flight on this connection (limit 2)"), r.payload());
            assertEquals(1.0, metric("remora_downstream_requests_refused_total{limit=\"max_requests_per_connection\","
                    + "listener=\"out\"}"));
        }
        String log = Files.readString(sidecar.logDir().resolve("limits.log"));
        assertTrue(log.contains("limits.max_requests_per_connection"), log);
    }

    @Test
    void overloadedSidecarWithStopAcceptingShedsRequestsAndStopsAcceptingThenRecovers() throws Exception {
        long max = PlatformDependent.maxDirectMemory();
        long used = Math.max(0, PlatformDependent.usedDirectMemory());
        long chunk = Math.min(256L << 20, max / 8);
        double threshold = 100.0 * (used + chunk / 2) / max;
        start(String.format(Locale.ROOT, "\"overload\": {\"direct_percent\": %.4f, \"heap_percent\": 100,"
                + " \"check_interval_ms\": 20, \"stop_accepting\": true},", threshold));
        try (TestClient existing = new TestClient(sidecar.port("out"))) {
            assertTrue(existing.call(1, "svc", "echo", "before").ok());
            ByteBuf hog = new UnpooledByteBufAllocator(true, true).directBuffer((int) chunk);
            TestClient waiting = null;
            try {
                awaitOverloaded(true);
                Reply shed = existing.call(2, "svc", "echo", "during");
                assertEquals(status(ProxyError.OVERFLOW), shed.status(), shed.toString());
                assertTrue(shed.payload().contains("sidecar overloaded: heap"), shed.payload());
                assertFalse(sidecar.sidecar().listeners().slot("out").serverChannel().config().isAutoRead(),
                        "the listener stopped accepting");
                waiting = new TestClient(sidecar.port("out")); // the kernel completes the handshake, nobody accepts
                waiting.send(0, 7, -1, "svc", "echo", "", "queued");
                assertTrue(metric("remora_overload_shed_requests_total") >= 1);
                assertEquals(1.0, metric("remora_overload_active"));
            } finally {
                hog.release();
            }
            awaitOverloaded(false);
            assertTrue(sidecar.sidecar().listeners().slot("out").serverChannel().config().isAutoRead(),
                    "accepting again");
            waiting.soTimeout(5000);
            Reply late = waiting.read();
            if (late.status() == status(ProxyError.OVERFLOW)) { // it was accepted in the instant before the pause
                waiting.send(0, 8, -1, "svc", "echo", "", "again");
                late = waiting.read();
            }
            assertTrue(late.ok(), "the queued connection is accepted and served after recovery: " + late);
            waiting.close();
            assertTrue(existing.call(3, "svc", "echo", "after").ok());
        }
        String log = Files.readString(sidecar.logDir().resolve("limits.log"));
        assertTrue(log.contains("overloaded: heap") && log.contains("recovered from overload"), log);
    }

    @Test
    void overloadedSidecarKeepsAcceptingAndAnswersNewConnectionsWithTheOverloadError() throws Exception {
        long max = PlatformDependent.maxDirectMemory();
        long used = Math.max(0, PlatformDependent.usedDirectMemory());
        long chunk = Math.min(256L << 20, max / 8);
        double threshold = 100.0 * (used + chunk / 2) / max;
        start(String.format(Locale.ROOT, "\"overload\": {\"direct_percent\": %.4f, \"heap_percent\": 100,"
                + " \"check_interval_ms\": 20},", threshold));
        ByteBuf hog = new UnpooledByteBufAllocator(true, true).directBuffer((int) chunk);
        try {
            awaitOverloaded(true);
            assertTrue(sidecar.sidecar().listeners().slot("out").serverChannel().config().isAutoRead(),
                    "still accepting (stop_accepting is off by default)");
            try (TestClient late = new TestClient(sidecar.port("out"))) {
                late.soTimeout(3000);
                Reply shed = late.call(1, "svc", "echo", "during");
                assertEquals(status(ProxyError.OVERFLOW), shed.status(), "a new caller gets the error at once, not a "
                        + "connect that hangs until recovery: " + shed);
                assertTrue(shed.payload().contains("sidecar overloaded"), shed.payload());
            }
        } finally {
            hog.release();
        }
        awaitOverloaded(false);
        String log = Files.readString(sidecar.logDir().resolve("limits.log"));
        assertFalse(log.contains("not accepting"), log);
    }

    @Test
    void directMemoryThePooledAllocatorKeepsAfterABurstIsNotPressure() throws Exception {
        long max = PlatformDependent.maxDirectMemory();
        long used = Math.max(0, PlatformDependent.usedDirectMemory());
        int n = 24;
        int size = 1 << 20;
        long thresholdBytes = (long) n * size / 2;
        double threshold = 100.0 * (used + thresholdBytes) / max;
        start(String.format(Locale.ROOT, "\"overload\": {\"direct_percent\": %.4f, \"heap_percent\": 100,"
                + " \"check_interval_ms\": 20},", threshold));
        // A burst of large buffers, with a small long-lived one between them (a connection's buffer): once the large
        // ones are released their chunks stay reserved, pinned by the small ones, as after a real traffic burst.
        List<ByteBuf> large = new ArrayList<>();
        List<ByteBuf> pins = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                large.add(io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(size, size));
                pins.add(io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(64 << 10, 64 << 10));
            }
            awaitOverloaded(true);
            large.forEach(ByteBuf::release);
            large.clear();
            long reserved = PlatformDependent.usedDirectMemory() - used;
            assertTrue(reserved > thresholdBytes, "precondition: the pool still reserves " + reserved + " bytes, more"
                    + " than the threshold's " + thresholdBytes + " (the old measure stayed overloaded here)");
            awaitOverloaded(false); // what is in use now is the pins: 1.5 MB
            try (TestClient c = new TestClient(sidecar.port("out"))) {
                assertTrue(c.call(1, "svc", "echo", "after the burst").ok());
            }
        } finally {
            large.forEach(ByteBuf::release);
            pins.forEach(ByteBuf::release);
        }
    }

    @Test
    void directMemoryOfNettyBuffersIsCountedOnce() {
        OverloadManager.JvmPressure p = new OverloadManager.JvmPressure();
        long max = PlatformDependent.maxDirectMemory();
        int size = 16 << 20; // above the pool's chunk size: one allocation of its own
        double before = p.directPercent();
        ByteBuf b = io.netty.buffer.PooledByteBufAllocator.DEFAULT.directBuffer(size, size);
        try {
            double grownBytes = (p.directPercent() - before) * max / 100;
            // Netty's counter and the JDK's buffer pool both see a buffer allocated through ByteBuffer.allocateDirect
            assertEquals(size, grownBytes, 1 << 20, "16 MB of buffers are 16 MB of pressure, not twice that");
        } finally {
            b.release();
        }
    }

    private void awaitOverloaded(boolean want) throws Exception {
        for (int i = 0; i < 500; i++) {
            if ((metric("remora_overload_active") == 1.0) == want) {
                return;
            }
            Thread.sleep(10); // the manager samples on its own thread
        }
        throw new AssertionError("overload state did not become " + want + ": direct "
                + metric("remora_overload_pressure_percent{resource=\"direct\"}") + "%, Netty reserves "
                + PlatformDependent.usedDirectMemory() + " of " + PlatformDependent.maxDirectMemory());
    }

    @Test
    void malformedFramesOnManyConnectionsAreCountedAndLoggedOncePerInterval() throws Exception {
        start("");
        int connections = 50;
        for (int i = 0; i < connections; i++) {
            try (java.net.Socket s = new java.net.Socket("127.0.0.1", sidecar.port("out"))) {
                s.setSoTimeout(3000);
                s.getOutputStream().write("garbage that is not a frame\r\n".getBytes(
                        java.nio.charset.StandardCharsets.US_ASCII));
                assertEquals(-1, s.getInputStream().read(), "the sidecar closes the connection");
            }
        }
        for (int i = 0; i < 200 && metric("remora_downstream_malformed_frames_total{listener=\"out\"}")
                < connections; i++) {
            Thread.sleep(10); // the last close is counted on the sidecar's loop
        }
        assertEquals(connections, (int) metric("remora_downstream_malformed_frames_total{listener=\"out\"}"));
        // another kind of malformation in the same interval gets its own line
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", sidecar.port("out"))) {
            s.setSoTimeout(3000);
            s.getOutputStream().write(java.nio.ByteBuffer.allocate(19).put(io.remora.core.testproto.TestProtocol.MAGIC)
                    .put((byte) 1).putLong(1).putInt(-1).put((byte) 0).putInt(Integer.MAX_VALUE).array());
            assertEquals(-1, s.getInputStream().read(), "a declared length over the limit closes the connection");
        }
        String log = "";
        for (int i = 0; i < 200 && !log.contains("exceeds"); i++) {
            Thread.sleep(10); // written on the sidecar's loop
            log = Files.readString(sidecar.logDir().resolve("limits.log"));
        }
        long lines = log.lines().filter(l -> l.contains("malformed testrpc frame: bad magic")).count();
        assertEquals(1, lines, "one line per kind and interval, not one per connection:\n" + log);
        assertEquals(1, log.lines().filter(l -> l.contains("malformed testrpc frame: frame of")).count(), log);
        assertFalse(log.contains("\tat "), "no stack trace:\n" + log);
    }

    @Test
    void requestsToAProviderThatStopsReadingOverflowPastMaxQueuedBytes() throws Exception {
        try (java.net.ServerSocket silent = new java.net.ServerSocket()) {
            silent.setReceiveBufferSize(4096);
            silent.bind(new java.net.InetSocketAddress("127.0.0.1", 0)); // the kernel accepts; nobody ever reads
            sidecar = TestSidecar.start("""
                    {"admin":{"port":0}, "worker_threads": 1,
                     "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                       "routes":[{"match":{"service":"*"},"cluster":"silent","timeout_ms":8000}]}],
                     "clusters":[{"name":"silent","max_queued_bytes":1048576,
                       "hosts":[{"address":"127.0.0.1:%d"}]}]}
                    """.formatted(silent.getLocalPort()));
            String payload = "x".repeat(256 * 1024);
            try (TestClient c = new TestClient(sidecar.port("out"))) {
                for (int i = 1; i <= 60; i++) { // 15 MB: the kernel's buffers take the first few MB
                    c.send(0, i, -1, "svc", "echo", "", payload);
                }
                c.soTimeout(5000); // below the route's 8 s: what arrives now was refused, not timed out
                Reply r = c.read();
                assertEquals(status(ProxyError.OVERFLOW), r.status(), r.toString());
                assertTrue(r.payload().contains("which is not reading"), r.payload());
            }
            assertTrue(metric("remora_downstream_requests_refused_total{limit=\"cluster_max_queued_bytes\","
                    + "listener=\"out\"}") >= 1);
            String log = Files.readString(sidecar.logDir().resolve("limits.log"));
            assertTrue(log.contains("cluster silent: request refused") && log.contains("clusters[].max_queued_bytes"),
                    log);
        }
        sidecar.close();
        sidecar = null;
        ConfigException e = assertThrows(ConfigException.class, () -> TestSidecar.start(
                "{\"admin\":{\"port\":0},\"clusters\":[{\"name\":\"c\",\"max_queued_bytes\":0,\"hosts\":[]}]}"));
        assertTrue(e.getMessage().contains("clusters[0].max_queued_bytes"), e.getMessage());
    }

    @Test
    void rejectsInvalidLimitsWithTheFieldPath() {
        ConfigException e = assertThrows(ConfigException.class, () -> Limits.compile(ConfigLoader.parse(
                "{\"limits\": {\"max_connections\": 0}}").limits()));
        assertTrue(e.getMessage().contains("limits.max_connections") && e.getMessage().contains("was 0"),
                e.getMessage());
        e = assertThrows(ConfigException.class, () -> OverloadManager.Config.compile(ConfigLoader.parse(
                "{\"overload\": {\"heap_percent\": 120}}").overload()));
        assertTrue(e.getMessage().contains("overload.heap_percent"), e.getMessage());
        assertThrows(ConfigException.class, () -> Limits.compile(ConfigLoader.parse(
                "{\"limits\": {\"accept_per_second\": -1}}").limits()));
    }

    @Test
    void overloadManagerRecoversOnlyBelowNinetyFivePercentOfTheThreshold() {
        double[] heap = {50};
        List<Boolean> changes = new ArrayList<>();
        try (OverloadManager m = new OverloadManager(new OverloadManager.Config(90, 90, 60_000),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), changes::add,
                new OverloadManager.Pressure() {
                    @Override
                    public double heapPercent() {
                        return heap[0];
                    }

                    @Override
                    public double directPercent() {
                        return 0;
                    }
                })) {
            m.check();
            assertFalse(m.overloaded());
            heap[0] = 91;
            m.check();
            assertTrue(m.overloaded());
            heap[0] = 86;
            m.check();
            assertTrue(m.overloaded(), "within the hysteresis band (85.5-90): still overloaded");
            heap[0] = 85;
            m.check();
            assertFalse(m.overloaded());
            assertEquals(List.of(true, false), changes);
        }
    }
}
