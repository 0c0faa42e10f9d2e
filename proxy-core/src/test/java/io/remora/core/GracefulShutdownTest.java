package io.remora.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestClient.Reply;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SIGTERM to a real sidecar process: in-flight requests finish, new ones are not accepted, the process exits. */
class GracefulShutdownTest {

    @TempDir
    Path dir;
    private Process process;
    private TestUpstream upstream;

    @AfterEach
    void tearDown() {
        if (process != null) {
            process.destroyForcibly();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private int startSidecar(String drainSeconds) throws Exception {
        upstream = new TestUpstream();
        int port = TestSidecar.freePort();
        int admin = TestSidecar.freePort();
        Path cfg = dir.resolve("sidecar.json");
        Files.writeString(cfg, """
                {"admin":{"port":%d},
                 "listeners":[{"name":"out","address":"127.0.0.1:%d","protocol":"testrpc",
                   "routes":[{"match":{"service":"*"},"cluster":"up"}]}],
                 "clusters":[{"name":"up","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(admin, port, upstream.port()));
        process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Sidecar.class.getName(),
                "--config", cfg.toString(), "--log-dir", dir.resolve("logs").toString(),
                "--drain-timeout", drainSeconds)
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            if (status(admin, "/ready") == 200) {
                return port;
            }
            assertTrue(process.isAlive(), () -> "sidecar died: " + read(dir.resolve("out.txt")));
            Thread.sleep(50);
        }
        throw new AssertionError("sidecar not ready: " + read(dir.resolve("out.txt")));
    }

    @Test
    void sigtermLetsInFlightRequestsFinishThenExits() throws Exception {
        int port = startSidecar("10");
        int clients = 8;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<Reply>> inflight = new ArrayList<>();
        List<TestClient> conns = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                TestClient c = new TestClient(port);
                conns.add(c);
                c.send(0, i + 1, 10_000, "svc", "sleep", "", "1500");
                inflight.add(pool.submit(c::read));
            }
            Thread.sleep(300); // all requests are at the upstream now
            long t0 = System.nanoTime();
            process.destroy(); // SIGTERM
            for (Future<Reply> f : inflight) {
                Reply r = f.get(10, TimeUnit.SECONDS);
                assertTrue(r.ok(), "an in-flight request finished normally: " + r);
            }
            assertTrue(process.waitFor(10, TimeUnit.SECONDS), "exited within the drain time");
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(0, process.exitValue(), read(dir.resolve("out.txt")));
            assertTrue(ms < 8000, "exit took " + ms + " ms");
            assertFalse(connects(port), "no new connection accepted after the signal");
            assertTrue(read(dir.resolve("out.txt")).contains("drained"), read(dir.resolve("out.txt")));
        } finally {
            pool.shutdownNow();
            for (TestClient c : conns) {
                c.close();
            }
        }
    }

    @Test
    void drainDeadlineBoundsAStuckRequest() throws Exception {
        int port = startSidecar("1");
        try (TestClient c = new TestClient(port)) {
            c.send(0, 1, 60_000, "svc", "silent", "", "");
            Thread.sleep(200);
            long t0 = System.nanoTime();
            process.destroy();
            assertTrue(process.waitFor(10, TimeUnit.SECONDS));
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(ms < 5000, "a stuck request cannot hold the exit past the deadline: " + ms + " ms");
            assertTrue(read(dir.resolve("out.txt")).contains("deadline passed"), read(dir.resolve("out.txt")));
        }
    }

    private static boolean connects(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int status(int port, String path) {
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + port + path).toURL()
                    .openConnection();
            c.setConnectTimeout(500);
            c.setReadTimeout(1000);
            return c.getResponseCode();
        } catch (IOException e) {
            return -1;
        }
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
