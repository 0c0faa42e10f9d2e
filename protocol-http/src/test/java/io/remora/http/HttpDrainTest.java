package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.http.testing.H2cClient;
import io.remora.testing.TestSidecar;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Graceful drain of HTTP connections: nothing in flight is cut; HTTP/1.1 says Connection: close, HTTP/2 GOAWAY. */
class HttpDrainTest {

    private HttpUpstreamServer upstream;
    private TestSidecar sidecar;

    @BeforeEach
    void start() throws Exception {
        upstream = new HttpUpstreamServer("a");
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"web","address":"127.0.0.1:0","protocol":"http",
                   "routes":[{"match":{"prefix":"/"},"cluster":"a"}]}],
                 "clusters":[{"name":"a","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(upstream.port()));
    }

    @AfterEach
    void stop() {
        sidecar.close();
        upstream.close();
    }

    private CompletableFuture<Boolean> drainAsync() {
        return CompletableFuture.supplyAsync(() -> sidecar.sidecar().drain(Duration.ofSeconds(10)));
    }

    private Socket connect() throws Exception {
        Socket s = new Socket("127.0.0.1", sidecar.port("web"));
        s.setSoTimeout(10_000);
        return s;
    }

    private static void send(Socket s, String text) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    @Test
    void inFlightHttp1RequestCompletesWithConnectionCloseThenTheConnectionCloses() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /slow?ms=1000 HTTP/1.1\r\nHost: t\r\n\r\n");
            await(() -> upstream.requests.get() == 1, "the request to reach the upstream");
            CompletableFuture<Boolean> drained = drainAsync();
            InputStream in = s.getInputStream();
            String response = HttpProxyTest.readResponse(in).toLowerCase();
            assertTrue(response.startsWith("http/1.1 200"), response);
            assertTrue(response.contains("connection: close"), response);
            assertEquals(-1, in.read(), "the connection closes after the response");
            assertTrue(drained.get(10, TimeUnit.SECONDS), "drain finished with every connection closed");
        }
    }

    @Test
    void idleKeepAliveConnectionIsClosedAtDrain() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /echo HTTP/1.1\r\nHost: t\r\n\r\n");
            InputStream in = s.getInputStream();
            String response = HttpProxyTest.readResponse(in).toLowerCase();
            assertTrue(response.startsWith("http/1.1 200"), response);
            assertTrue(!response.contains("connection: close"), response);
            CompletableFuture<Boolean> drained = drainAsync();
            assertEquals(-1, in.read(), "the idle connection is closed");
            assertTrue(drained.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void partlyReceivedRequestAtDrainIsAnsweredWithConnectionClose() throws Exception {
        try (Socket s = connect()) {
            send(s, "GET /echo HTTP/1.1\r\nHost: t\r\n");
            await(() -> sidecar.sidecar().listeners().openConnections() == 1, "the connection to be accepted");
            Thread.sleep(200); // let the partial head reach the decoder (nothing observable to await)
            CompletableFuture<Boolean> drained = drainAsync();
            await(() -> sidecar.sidecar().draining(), "the drain to start");
            send(s, "x-late: yes\r\n\r\n");
            InputStream in = s.getInputStream();
            String response = HttpProxyTest.readResponse(in).toLowerCase();
            assertTrue(response.startsWith("http/1.1 200"), response);
            assertTrue(response.contains("h:x-late=yes"), response);
            assertTrue(response.contains("connection: close"), response);
            assertEquals(-1, in.read());
            assertTrue(drained.get(10, TimeUnit.SECONDS));
        }
    }

    @Test
    void http2GetsGoawayInFlightStreamCompletesAndTheNextRequestUsesANewConnection() throws Exception {
        try (H2cClient client = new H2cClient(sidecar.port("web"), "x-upstream")) {
            assertEquals(200, client.get("/echo").get(10, TimeUnit.SECONDS).status());
            CompletableFuture<H2cClient.Response> slow = client.get("/slow?ms=1000");
            await(() -> upstream.requests.get() == 2, "the slow request to reach the upstream");
            // what drain does, with the listener still accepting (as during an upgrade)
            sidecar.sidecar().listeners().closeConnectionsWhenIdle();
            await(() -> !client.goAways.isEmpty(), "GOAWAY");
            H2cClient.Response r = slow.get(10, TimeUnit.SECONDS);
            assertEquals(200, r.status(), "the in-flight stream completes");
            assertEquals(1, r.connection());
            await(() -> client.goAways.size() == 2, "the second GOAWAY");
            assertEquals(Integer.MAX_VALUE, client.goAways.get(0), "first GOAWAY: any stream in flight still counts");
            assertEquals(r.stream(), client.goAways.get(1), "then last stream id = the highest the client opened");
            H2cClient.Response next = client.get("/echo?after=goaway").get(10, TimeUnit.SECONDS);
            assertEquals(200, next.status());
            assertEquals(2, next.connection(), "a new connection after GOAWAY");
            await(() -> client.closed(1), "the old connection to close once its streams ended");
        }
    }

    @Test
    void http2DrainLetsTheStreamFinishThenCloses() throws Exception {
        try (H2cClient client = new H2cClient(sidecar.port("web"), null)) {
            CompletableFuture<H2cClient.Response> slow = client.get("/slow?ms=800");
            await(() -> upstream.requests.get() == 1, "the request to reach the upstream");
            CompletableFuture<Boolean> drained = drainAsync();
            await(() -> !client.goAways.isEmpty(), "GOAWAY");
            assertEquals(200, slow.get(10, TimeUnit.SECONDS).status());
            assertTrue(drained.get(10, TimeUnit.SECONDS));
            await(() -> client.closed(1), "the connection to close");
        }
    }
}
