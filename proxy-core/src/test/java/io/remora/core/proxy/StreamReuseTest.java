package io.remora.core.proxy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.filter.RequestContext;
import io.remora.core.protocol.ProxyError;
import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestClient.Reply;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Streams are reused by their loop only when nothing else can still reach them. */
class StreamReuseTest {

    private TestUpstream upstream;
    private TestSidecar sidecar;

    @BeforeEach
    void setUp() throws Exception {
        HoldFilterFactory.HELD.clear();
        HoldFilterFactory.SEEN.clear();
        upstream = new TestUpstream();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0}, "worker_threads": 1,
                 "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                   "filters":[{"type":"test_hold","config":{}}],
                   "routes":[{"match":{"service":"svc.Echo"},"cluster":"echo","timeout_ms":2000}]}],
                 "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(upstream.port()));
    }

    @AfterEach
    void tearDown() {
        sidecar.close();
        upstream.close();
    }

    private static RequestContext seen() throws InterruptedException {
        RequestContext c = HoldFilterFactory.SEEN.poll(5, TimeUnit.SECONDS);
        assertNotNull(c, "the filter saw no request");
        return c;
    }

    @Test
    void reusesTheStreamOfARequestThatEndedOnThePlainPath() throws Exception {
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            assertTrue(c.call(1, "svc.Echo", "echo", "a").ok());
            RequestContext first = seen();
            assertTrue(c.call(2, "svc.Echo", "echo", "b").ok());
            assertSame(first, seen(), "one loop, one request at a time: the free stream carries the next request");
        }
    }

    @Test
    void neverReusesAStreamAPausedFilterStillHolds() throws Exception {
        try (TestClient c = new TestClient(sidecar.port("out"))) {
            c.send(0, 1, 2000, "svc.Echo", "hold", "", "x");
            RequestContext held = HoldFilterFactory.HELD.poll(5, TimeUnit.SECONDS);
            assertNotNull(held);
            assertSame(held, seen());
            // the filter ends the request itself, keeps its context and comes back to it later
            CompletableFuture<Void> answered = new CompletableFuture<>();
            held.executor().execute(() -> {
                held.respondError(ProxyError.FAULT_INJECTED, "held");
                answered.complete(null);
            });
            answered.get(5, TimeUnit.SECONDS);
            Reply r = c.read();
            assertEquals(1, r.id());
            assertTrue(!r.ok(), r.toString());

            List<RequestContext> later = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                assertTrue(c.call(10 + i, "svc.Echo", "echo", "p" + i).ok());
                later.add(seen());
            }
            for (RequestContext l : later) {
                assertNotSame(held, l, "a stream a filter still holds was reused");
            }
            // the late resume and error reach the ended request, never a new one
            CompletableFuture<Void> late = new CompletableFuture<>();
            held.executor().execute(() -> {
                try {
                    held.resume();
                    held.respondError(ProxyError.FAULT_INJECTED, "late");
                    late.complete(null);
                } catch (Throwable t) {
                    late.completeExceptionally(t);
                }
            });
            late.get(5, TimeUnit.SECONDS);
            Reply after = c.call(20, "svc.Echo", "echo", "after");
            assertTrue(after.ok(), after.toString());
            assertEquals(20, after.id());
        }
    }
}
