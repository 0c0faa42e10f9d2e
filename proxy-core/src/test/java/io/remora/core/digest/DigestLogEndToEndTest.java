package io.remora.core.digest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A call through a real sidecar leaves exactly one digest line, in the documented format and nothing else. */
class DigestLogEndToEndTest {

    @Test
    void aProxiedCallWritesExactlyOneWellFormedLine() throws Exception {
        Path logDir;
        int upstreamPort;
        try (TestUpstream upstream = new TestUpstream();
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0}, "worker_threads":1, "node":{"app":"caller-app"},
                      "listeners":[{"name":"out","address":"127.0.0.1:0","protocol":"testrpc",
                                    "routes":[{"match":{"service":"svc.Echo"},"cluster":"echo"}]}],
                      "clusters":[{"name":"echo","hosts":[{"address":"127.0.0.1:%d"}]}]}
                     """.formatted(upstream.port()))) {
            upstreamPort = upstream.port();
            logDir = sidecar.logDir();
            try (TestClient c = new TestClient(sidecar.port("out"))) {
                c.send(0, 1, 3000, "svc.Echo", "echo", "", "héllo");
                assertTrue(c.read().ok());
            }
        } // closing the sidecar writes out what the digest writer holds: no waiting for the file
        Path file = logDir.resolve(DigestLog.CLIENT_FILE);
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = text.lines().toList();
        assertEquals(1, lines.size(), text);
        assertTrue(text.endsWith("\n"), "one whole line");
        String[] f = lines.get(0).split(",", -1);
        assertEquals(16, f.length, lines.get(0));
        assertTrue(f[0].matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}"),
                "starts with the time, no logger prefix: " + f[0]);
        assertEquals("caller-app", f[1]);
        assertEquals("svc.Echo", f[4]);
        assertEquals("echo", f[5]);
        assertEquals("testrpc", f[6]);
        assertEquals("sync", f[7]);
        assertEquals("127.0.0.1:" + upstreamPort, f[8]);
        assertEquals("00", f[10]);
        assertTrue(Integer.parseInt(f[11]) > 0 && Integer.parseInt(f[12]) > 0);
        assertTrue(f[13].matches("\\d+\\.\\d{3}"), f[13]);
        assertEquals("127.0.0.1", f[15]);
        Path server = logDir.resolve(DigestLog.SERVER_FILE);
        assertTrue(!Files.exists(server) || Files.size(server) == 0, "no inbound call, no inbound line");
    }
}
