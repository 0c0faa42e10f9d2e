package io.remora.filters.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.HelloServiceImpl;
import io.remora.testkit.sofa.SofaRpcPeers;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Log levels changed over the admin API ({@code /api/v1/update_loglevel}) change what each file records, with real
 * SOFARPC calls through the sidecar: the digest log and flow-control.log stop at ERROR and resume at INFO.
 */
class LogLevelAtRunTimeTest {

    private static final String SVC = HelloService.class.getName() + ":1.0";
    private static SofaRpcPeers peers;
    private static int providerPort;
    private TestSidecar sidecar;
    private HelloService hello;

    @BeforeAll
    static void provider() {
        peers = new SofaRpcPeers();
        providerPort = peers.provide(HelloService.class, new HelloServiceImpl(), null);
    }

    @AfterAll
    static void stopProvider() {
        peers.close();
    }

    @AfterEach
    void stop() {
        if (sidecar != null) {
            sidecar.close();
        }
    }

    private void start(String governance) throws Exception {
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"egress","address":"127.0.0.1:0","protocol":"bolt","direction":"outbound",
                   "routes":[{"match":{"service":"*"},"cluster":"hello","timeout_ms":5000}],
                   "filters":[{"type":"rate_limit"}]}],
                 "clusters":[{"name":"hello","hosts":[{"address":"127.0.0.1:%d"}]}],
                 "extensions":{"governance":%s}}
                """.formatted(providerPort, governance));
        hello = peers.consumer(HelloService.class, sidecar.port("egress"), 5000);
    }

    private void level(String file, String level) {
        TestSidecar.AdminReply r = sidecar.admin("POST", "/api/v1/update_loglevel",
                "{\"log_level\":\"" + level + "\",\"log_path\":\"" + file + "\"}");
        assertEquals(200, r.status(), r.body());
        String levels = sidecar.admin("GET", "/api/v1/get_loglevel", null).body();
        assertTrue(levels.matches("(?s).*" + file.replace(".", "\\.") + "\"\\s*:\\s*\"" + level + "\".*"), levels);
    }

    private long lines(String file, String containing) {
        Path p = sidecar.logDir().resolve(file);
        try {
            return Files.exists(p) ? Files.readAllLines(p).stream().filter(l -> l.contains(containing)).count() : 0;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(LongSupplier n, long atLeast, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (n.getAsLong() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(n.getAsLong() >= atLeast, what + ": " + n.getAsLong() + " < " + atLeast);
    }

    private void calls(int n) {
        for (int i = 0; i < n; i++) {
            assertEquals("hello d" + i, hello.sayHello("d" + i));
        }
    }

    @Test
    void digestLinesStopAtErrorAndResumeAtInfo() throws Exception {
        start("{}");
        String file = "rpc-client-digest.log";
        calls(5);
        await(() -> lines(file, SVC), 5, "digest lines at INFO");
        level(file, "ERROR");
        calls(7);
        level(file, "INFO");
        calls(1);
        // The writer keeps call order: had the ERROR-time calls been recorded, they would precede this line.
        await(() -> lines(file, SVC), 6, "digest line after INFO again");
        assertEquals(6, lines(file, SVC), "calls made at ERROR left digest lines");
    }

    @Test
    void flowControlLinesStopAtErrorAndResumeAtInfo() throws Exception {
        start("{\"rate_limit\":[{\"name\":\"roomy\",\"direction\":\"client\",\"service\":\"" + SVC + "\","
                + "\"type\":\"qps\",\"threshold\":100000}]}");
        String file = "flow-control.log";
        calls(3);
        await(() -> lines(file, "rule=roomy"), 1, "flow-control line at INFO");
        level(file, "ERROR");
        // A line being written at the switch may still land: the baseline is taken after one reporting period.
        Thread.sleep(1200);
        long baseline = lines(file, "rule=roomy");
        for (int s = 0; s < 5; s++) {
            calls(3);
            Thread.sleep(500); // traffic across several once-a-second reports; absence cannot be awaited
        }
        assertEquals(baseline, lines(file, "rule=roomy"), "flow-control.log written at ERROR");
        level(file, "INFO");
        calls(3);
        await(() -> lines(file, "rule=roomy"), baseline + 1, "flow-control line after INFO again");
    }
}
