package io.remora.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.protocol.ProxyError;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestClient.Reply;
import io.remora.core.testproto.TestProtocol;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The engine end to end over real sockets, with the test-only protocol: routing, multiplexing, errors, limits. */
class EngineTest {

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

    private void start(String clusterExtra, String hosts) throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads": 1,
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "routes":[{"match":{"service":"svc.Echo"},"cluster":"echo","timeout_ms":2000},
                             {"match":{"service":"svc.Echo","headers":[{"name":"lane","exact":"gray"}]},"cluster":"none"},
                             {"match":{"service":"svc.Short"},"cluster":"echo","timeout_ms":300}]}],
                 "clusters":[{"name":"echo" %s,"hosts":[%s]},
                             {"name":"none","hosts":[]}]}
                """.formatted(clusterExtra, hosts));
    }

    private void startDefault() throws Exception {
        start("", "{\"address\":\"127.0.0.1:" + upstream.port() + "\"}");
    }

    private static int errorStatus(ProxyError e) {
        return 100 + e.ordinal();
    }

    @Test
    void routesRequestToUpstreamAndRestoresTheCallersId() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            Reply r = c.call(424242, "svc.Echo", "echo", "hi");
            assertTrue(r.ok(), r.toString());
            assertEquals(424242, r.id());
            assertEquals("echo:hi@" + upstream.port(), r.payload());
        }
        assertEquals(1, upstream.requests.size());
    }

    @Test
    void multiplexesCollidingIdsFromManyConnectionsOntoOneUpstreamConnection() throws Exception {
        startDefault();
        int clients = 20;
        int perClient = 10;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int client = i;
                results.add(pool.submit((Callable<Integer>) () -> {
                    try (TestClient c = new TestClient(sidecar.port("out"))) {
                        // every client uses the same ids 1..10: they collide upstream unless rewritten
                        for (int id = 1; id <= perClient; id++) {
                            c.send(0, id, 3000, "svc.Echo", "echo", "", client + "-" + id);
                        }
                        int ok = 0;
                        for (int n = 0; n < perClient; n++) {
                            Reply r = c.read();
                            if (r.ok() && r.payload().equals("echo:" + client + "-" + r.id() + "@" + upstream.port())) {
                                ok++;
                            }
                        }
                        return ok;
                    }
                }));
            }
            int total = 0;
            for (Future<Integer> f : results) {
                total += f.get();
            }
            assertEquals(clients * perClient, total);
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, upstream.connections.get(), "one multiplexed upstream connection per event loop");
        Set<Long> upstreamIds = new HashSet<>();
        upstream.requests.forEach(s -> upstreamIds.add(s.id()));
        assertEquals(clients * perClient, upstreamIds.size(), "upstream ids are unique on the shared connection");
    }

    @Test
    void forwardsTheRemainingTimeNotTheOriginal() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(0, 1, 5000, "svc.Echo", "echo", "", "x");
            assertTrue(c.read().ok());
        }
        int forwarded = upstream.requests.get(0).timeout();
        assertTrue(forwarded > 0 && forwarded <= 5000, "forwarded timeout " + forwarded);
    }

    @Test
    void answersNoRouteWithANativeErrorNamingTheService() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            Reply r = c.call(7, "svc.Unknown", "m", "");
            assertEquals(errorStatus(ProxyError.NO_ROUTE), r.status());
            assertEquals(7, r.id());
            assertTrue(r.payload().contains("svc.Unknown"), r.payload());
        }
    }

    @Test
    void routesOnHeadersAndReportsAnEmptyCluster() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(0, 1, 3000, "svc.Echo", "echo", "lane=gray", "x");
            Reply r = c.read();
            // the first route (no header condition) wins: routes are tried in order
            assertTrue(r.ok(), r.toString());
        }
    }

    @Test
    void timesOutASlowUpstreamAtTheRequestsTimeout() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            long t0 = System.nanoTime();
            c.send(0, 9, 400, "svc.Echo", "sleep", "", "3000");
            Reply r = c.read();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(errorStatus(ProxyError.TIMEOUT), r.status());
            assertEquals(9, r.id());
            assertTrue(ms >= 350 && ms < 2500, "timed out after " + ms + " ms");
            // the connection stays usable, and the late answer is dropped
            Reply next = c.call(10, "svc.Echo", "echo", "after");
            assertTrue(next.ok(), next.toString());
            assertEquals(10, next.id());
        }
    }

    @Test
    void usesTheRouteTimeoutWhenTheRequestHasNone() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(0, 3, -1, "svc.Short", "sleep", "", "3000");
            Reply r = c.read();
            assertEquals(errorStatus(ProxyError.TIMEOUT), r.status());
        }
    }

    @Test
    void failsFastWithConnectFailureWhenTheUpstreamIsDown() throws Exception {
        int dead = TestSidecar.freePort();
        start("", "{\"address\":\"127.0.0.1:" + dead + "\"}");
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            Reply r = c.call(5, "svc.Echo", "echo", "x");
            assertEquals(errorStatus(ProxyError.UPSTREAM_CONNECT_FAILURE), r.status());
            assertTrue(r.payload().contains("127.0.0.1:" + dead), r.payload());
        }
    }

    @Test
    void failsEveryPendingCallWhenTheUpstreamConnectionDies() throws Exception {
        startDefault();
        try (TestClient a = new TestClient(sidecar.port("out")); TestClient b = new TestClient(sidecar.port("out"))) {
            a.send(0, 1, 5000, "svc.Echo", "silent", "", "");
            b.send(0, 1, 5000, "svc.Echo", "close", "", "");
            Reply ra = a.read();
            Reply rb = b.read();
            assertEquals(errorStatus(ProxyError.UPSTREAM_RESET), ra.status());
            assertEquals(errorStatus(ProxyError.UPSTREAM_RESET), rb.status());
            // a new upstream connection is made for the next call
            assertTrue(a.call(2, "svc.Echo", "echo", "again").ok());
        }
        assertEquals(2, upstream.connections.get());
    }

    @Test
    void rejectsBeyondMaxPendingWithOverflow() throws Exception {
        start(",\"max_pending_requests\":2", "{\"address\":\"127.0.0.1:" + upstream.port() + "\"}");
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(0, 1, 3000, "svc.Echo", "silent", "", "");
            c.send(0, 2, 3000, "svc.Echo", "silent", "", "");
            c.send(0, 3, 3000, "svc.Echo", "echo", "", "");
            Reply r = c.read();
            assertEquals(3, r.id());
            assertEquals(errorStatus(ProxyError.OVERFLOW), r.status());
        }
    }

    @Test
    void forwardsOnewayWithoutAnyReply() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(2, 77, 3000, "svc.Echo", "echo", "", "fire");
            Reply r = c.call(78, "svc.Echo", "echo", "sync");
            assertEquals(78, r.id(), "the first frame back answers the sync call, not the oneway");
        }
        assertEquals(1, upstream.oneways.size());
        assertEquals("fire", upstream.oneways.get(0).payload());
    }

    @Test
    void answersHeartbeatsLocally() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(3, 99, -1, "", "", "", "");
            Reply r = c.read();
            assertEquals(4, r.type());
            assertEquals(99, r.id());
        }
        assertEquals(0, upstream.heartbeats.get());
        assertEquals(0, upstream.connections.get(), "a heartbeat never opens an upstream connection");
    }

    @Test
    void closesOnlyTheConnectionThatSentAMalformedFrame() throws Exception {
        startDefault();
        try (TestClient bad = new TestClient(sidecar.port("out")); TestClient good = new TestClient(sidecar.port("out"))) {
            bad.sendRaw(new byte[] {0x55, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
            assertTrue(bad.closedByPeer());
            assertTrue(good.call(1, "svc.Echo", "echo", "still fine").ok());
        }
    }

    @Test
    void closesAConnectionDeclaringAnOversizedFrameBeforeReadingIt() throws Exception {
        startDefault();
        try (TestClient bad = new TestClient(sidecar.port("out")); TestClient good = new TestClient(sidecar.port("out"))) {
            byte[] header = new byte[TestProtocol.HEADER];
            header[0] = TestProtocol.MAGIC;
            header[15] = 0x7F; // body length ~2 GiB, never sent
            bad.sendRaw(header);
            assertTrue(bad.closedByPeer());
            assertTrue(good.call(1, "svc.Echo", "echo", "ok").ok());
        }
    }

    @Test
    void drainsAnUpstreamConnectionWhenTheProviderAsks() throws Exception {
        startDefault();
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "a").ok());
            upstream.drainAll();
            // the drained connection is closed once idle; the next call opens a new one
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (upstream.connections.get() < 2 && System.nanoTime() < deadline) {
                assertTrue(c.call(2, "svc.Echo", "echo", "b").ok());
            }
            assertEquals(2, upstream.connections.get());
        }
    }
}
