package io.remora.upgrade;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.remora.core.config.ConfigLoader;
import io.remora.http.testing.H2cClient;
import io.remora.testing.TestSidecar;
import io.remora.testkit.SidecarProcess;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Real sidecar processes upgraded while HTTP clients use an {@code http} listener: HTTP/1.1 keep-alive connections move
 * to the new process on their socket; HTTP/2 connections get GOAWAY and the client continues on a new connection.
 */
class HttpUpgradeTest {

    private final List<SidecarProcess> processes = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final ExecutorService upstreamPool = Executors.newFixedThreadPool(16);
    private final AtomicInteger upstreamRequests = new AtomicInteger();
    private volatile boolean running = true;
    private HttpServer upstream;
    private Path work;
    private int adminPort;
    private int webPort;

    @BeforeEach
    void startOldSidecarAndUpstream() throws Exception {
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.setExecutor(upstreamPool);
        upstream.createContext("/", ex -> {
            upstreamRequests.incrementAndGet();
            try (ex) {
                ex.getRequestBody().readAllBytes();
                String q = ex.getRequestURI().getRawQuery();
                if (ex.getRequestURI().getPath().equals("/slow")) {
                    Thread.sleep(Long.parseLong(q.substring(q.indexOf('=') + 1)));
                }
                byte[] body = ("hello " + ex.getRequestURI()).getBytes(StandardCharsets.UTF_8);
                ex.sendResponseHeaders(200, body.length);
                ex.getResponseBody().write(body);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        upstream.start();
        work = Files.createTempDirectory("remora-http-upgrade-test");
        adminPort = TestSidecar.freePort();
        webPort = TestSidecar.freePort();
        Path config = work.resolve("sidecar.json");
        Files.writeString(config, """
                {"admin":{"address":"127.0.0.1","port":%d},
                 "listeners":[{"name":"web","address":"127.0.0.1:%d","protocol":"http","direction":"outbound",
                   "routes":[{"match":{"prefix":"/"},"cluster":"up","timeout_ms":8000}]}],
                 "clusters":[{"name":"up","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"upgrade":{"dir":"%s","drain_timeout_ms":8000}}}
                """.formatted(adminPort, webPort, upstream.getAddress().getPort(), work));
        launch("old", false).awaitReady(30_000);
    }

    @AfterEach
    void stopEverything() throws Exception {
        running = false;
        for (Thread t : threads) {
            t.join(5_000);
        }
        for (SidecarProcess p : processes) {
            p.close();
        }
        upstream.stop(0);
        upstreamPool.shutdownNow();
    }

    private SidecarProcess launch(String name, boolean upgrade) throws Exception {
        SidecarProcess p = SidecarProcess.start(work.resolve("sidecar.json"), work, name, upgrade);
        processes.add(p);
        return p;
    }

    /** Starts the new process and waits until it serves and the old one exited (code 0). */
    private SidecarProcess upgrade() throws Exception {
        SidecarProcess old = processes.get(processes.size() - 1);
        SidecarProcess next = launch("new", true);
        next.awaitReady(30_000);
        assertEquals(0, old.awaitExit(30_000), old.output());
        assertEquals(next.pid(), states().path("pid").asLong(), "the new process serves the admin port");
        return next;
    }

    @Test
    void http1KeepAliveClientsUnderLoadFailNothingAndAnIdleConnectionContinuesOnItsSocket() throws Exception {
        AtomicLong ok = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        for (int i = 0; i < 4; i++) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
            String name = "c" + i;
            loop(name, () -> {
                String path = "/hello?client=" + name + "&n=" + ok.get();
                HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + webPort
                        + path)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200 || !r.body().equals("hello " + path)) {
                    throw new AssertionError(r.statusCode() + " " + r.body());
                }
                ok.incrementAndGet();
            }, failed, errors);
        }
        try (Socket raw = new Socket("127.0.0.1", webPort)) {
            raw.setSoTimeout(10_000);
            assertTrue(exchange(raw, "/raw?before").startsWith("HTTP/1.1 200"));
            int localPort = raw.getLocalPort();
            await(() -> ok.get() >= 200, "load before the upgrade");
            long atStart = ok.get();

            upgrade();
            long atSwitch = ok.get();
            await(() -> ok.get() >= atSwitch + 200, "load served by the new process");
            running = false;

            // the old process has exited: only the new one can answer on this (same) socket
            String after = exchange(raw, "/raw?after");
            assertTrue(after.startsWith("HTTP/1.1 200") && after.endsWith("hello /raw?after"), after);
            assertEquals(localPort, raw.getLocalPort());
            JsonNode up = upgradeStatus();
            assertEquals("done", up.path("state").asText(), up.toPrettyString());
            assertTrue(up.path("connections").path("migrated").asInt() >= 2, up.toPrettyString());
            assertEquals(0, failed.get(), "failed requests: " + errors);
            System.out.printf("HTTP/1.1 UPGRADE under load: ok %d (%d during+after), failed %d, %s%n", ok.get(),
                    ok.get() - atStart, failed.get(), up.path("connections"));
        }
    }

    @Test
    void http2ClientGetsGoawayAndContinuesOnANewConnectionWithoutAFailedStream() throws Exception {
        try (H2cClient client = new H2cClient(webPort, null)) {
            assertEquals(200, client.get("/h2?first").get(10, TimeUnit.SECONDS).status());
            AtomicLong ok = new AtomicLong();
            AtomicLong failed = new AtomicLong();
            ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
            loop("h2", () -> {
                H2cClient.Response r = client.get("/h2?n=" + ok.get()).get(10, TimeUnit.SECONDS);
                if (r.status() != 200) {
                    throw new AssertionError(r.status() + " " + r.body());
                }
                ok.incrementAndGet();
            }, failed, errors);
            int before = upstreamRequests.get();
            CompletableFuture<H2cClient.Response> slow = client.get("/slow?ms=1500");
            await(() -> upstreamRequests.get() > before && ok.get() >= 50, "load and the slow stream in flight");

            upgrade(); // the old process exits once the slow stream ended and its connection closed
            H2cClient.Response r = slow.get(10, TimeUnit.SECONDS);
            assertEquals(200, r.status(), "the in-flight stream completed on the old process");
            assertEquals(1, r.connection());
            assertTrue(client.goAways.size() >= 2, "GOAWAYs " + client.goAways);
            long atSwitch = ok.get();
            await(() -> ok.get() >= atSwitch + 50, "requests on a new connection to the new process");
            running = false;
            assertTrue(client.connections() >= 2, "a new connection after GOAWAY");
            assertEquals(0, failed.get(), "failed streams: " + errors);
            JsonNode up = upgradeStatus();
            assertEquals("done", up.path("state").asText(), up.toPrettyString());
            assertTrue(up.path("events").toString().matches(".*0 connection\\(s\\) migrated, [1-9]\\d* drained.*"),
                    up.toPrettyString()); // the old process closed it gracefully (GOAWAY), never moved it
        }
    }

    /** One request on a raw keep-alive socket; returns the response (head and body). */
    private static String exchange(Socket s, String path) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write(("GET " + path + " HTTP/1.1\r\nHost: t\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        int c;
        while ((c = in.read()) != -1) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                break;
            }
        }
        int len = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase().startsWith("content-length:")) {
                len = Integer.parseInt(line.substring(15).trim());
            }
        }
        return head + new String(in.readNBytes(len), StandardCharsets.UTF_8);
    }

    private interface Call {
        void run() throws Exception;
    }

    private void loop(String name, Call call, AtomicLong failed, ConcurrentLinkedQueue<String> errors) {
        Thread t = new Thread(() -> {
            while (running) {
                try {
                    call.run();
                } catch (InterruptedException e) {
                    return;
                } catch (Exception | AssertionError e) {
                    failed.incrementAndGet();
                    if (errors.size() < 20) {
                        errors.add(name + ": " + e);
                    }
                }
            }
        }, "load-" + name);
        t.setDaemon(true);
        t.start();
        threads.add(t);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < end, "timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    private JsonNode states() throws Exception {
        return ConfigLoader.mapper().readTree(SidecarProcess.get(adminPort, "/api/v1/states"));
    }

    private JsonNode upgradeStatus() throws Exception {
        return ConfigLoader.mapper().readTree(SidecarProcess.get(adminPort, "/api/v1/upgrade"));
    }
}
