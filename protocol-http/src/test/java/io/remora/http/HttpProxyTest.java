package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.testing.TestSidecar;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** HTTP/1.1 and h2c callers through the sidecar to real HTTP/1.1 upstreams. */
class HttpProxyTest {

    static HttpUpstreamServer a;
    static HttpUpstreamServer b;
    static TestSidecar sidecar;
    static HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    static HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        a = new HttpUpstreamServer("a");
        b = new HttpUpstreamServer("b");
        int dead = TestSidecar.freePort();
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"web","address":"127.0.0.1:0","protocol":"http",
                   "options":{"max_header_bytes":"4096","max_headers":"50","request_header_timeout_ms":"500"},
                   "routes":[
                     {"match":{"service":"api.local","prefix":"/v1/"},"cluster":"b"},
                     {"match":{"path_regex":"/items/[0-9]+"},"cluster":"b"},
                     {"match":{"method":"DELETE"},"cluster":"b"},
                     {"match":{"headers":[{"name":"x-canary","exact":"yes"}]},"cluster":"b"},
                     {"match":{"path":"/dead"},"cluster":"dead"},
                     {"match":{"path":"/empty"},"cluster":"empty"},
                     {"match":{"prefix":"/slow"},"cluster":"a","timeout_ms":300},
                     {"match":{"prefix":"/"},"cluster":"a"}]},
                  {"name":"strict","address":"127.0.0.1:0","protocol":"http",
                   "routes":[{"match":{"path":"/only"},"cluster":"a"}]}],
                 "clusters":[
                   {"name":"a","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"b","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"dead","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"empty","hosts":[]}]}
                """.formatted(a.port(), b.port(), dead));
    }

    @AfterAll
    static void stop() {
        sidecar.close();
        a.close();
        b.close();
    }

    static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + sidecar.port("web") + path);
    }

    static HttpResponse<String> get(HttpClient c, String path, String... headers) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10));
        for (int i = 0; i < headers.length; i += 2) {
            r.header(headers[i], headers[i + 1]);
        }
        return c.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void proxiesGetWithForwardingHeadersAndRequestId() throws Exception {
        HttpResponse<String> r = get(h1, "/hello?x=1", "x-request-id", "rid-1");
        assertEquals(200, r.statusCode());
        assertEquals("a", r.headers().firstValue("x-upstream").orElseThrow());
        assertTrue(r.body().startsWith("GET /hello?x=1\n"), r.body());
        assertTrue(r.body().contains("h:x-forwarded-for=127.0.0.1\n"), r.body());
        assertTrue(r.body().contains("h:x-forwarded-proto=http\n"), r.body());
        assertTrue(r.body().contains("h:x-request-id=rid-1\n"), r.body());
        HttpResponse<String> r2 = get(h1, "/hello");
        assertTrue(r2.body().matches("(?s).*h:x-request-id=[0-9a-f]{32}\n.*"), r2.body());
    }

    @Test
    void routesOnHostPrefixRegexMethodAndHeader() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.port("web"))) {
            s.getOutputStream().write("GET /v1/x HTTP/1.1\r\nHost: API.local:8080\r\n\r\n".getBytes());
            assertTrue(readResponse(s.getInputStream()).toLowerCase().contains("x-upstream: b"));
        }
        assertEquals("a", get(h1, "/v1/x").headers().firstValue("x-upstream").get());
        assertEquals("b", get(h1, "/items/42").headers().firstValue("x-upstream").get());
        assertEquals("a", get(h1, "/items/4x").headers().firstValue("x-upstream").get());
        assertEquals("b", get(h1, "/c", "x-canary", "yes").headers().firstValue("x-upstream").get());
        HttpResponse<String> del = h1.send(HttpRequest.newBuilder(uri("/thing")).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("b", del.headers().firstValue("x-upstream").get());
    }

    @Test
    void stripsHopByHopHeaders() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.port("web"))) {
            String req = "GET /hop HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-Secret\r\nX-Secret: 1\r\n"
                    + "Keep-Alive: timeout=5\r\nProxy-Authorization: Basic abc\r\nTE: gzip\r\nUpgrade: foo\r\n"
                    + "X-Kept: yes\r\n\r\n";
            s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII));
            String resp = readResponse(s.getInputStream());
            assertTrue(resp.startsWith("HTTP/1.1 200"), resp);
            assertTrue(resp.contains("h:x-kept=yes"), resp);
            for (String gone : List.of("x-secret", "keep-alive", "proxy-authorization", "te=", "upgrade", "h:connection")) {
                assertFalse(resp.toLowerCase().contains("h:" + gone.replace("h:", "")), gone + " in " + resp);
            }
        }
    }

    @Test
    void answersNativeErrorsWithStatusAndCauseHeader() throws Exception {
        HttpResponse<String> dead = get(h1, "/dead");
        assertEquals(502, dead.statusCode());
        assertEquals("upstream_connect_failure", dead.headers().firstValue("x-remora-error").get());
        HttpResponse<String> empty = get(h1, "/empty");
        assertEquals(503, empty.statusCode());
        assertEquals("no_healthy_upstream", empty.headers().firstValue("x-remora-error").get());
        assertTrue(empty.body().contains("no healthy upstream"), empty.body());
        long t0 = System.nanoTime();
        HttpResponse<String> slow = get(h1, "/slow?ms=3000");
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(504, slow.statusCode());
        assertEquals("timeout", slow.headers().firstValue("x-remora-error").get());
        assertTrue(ms >= 250 && ms < 2500, "took " + ms);
        // keep-alive survives a native error
        assertEquals(200, get(h1, "/after-errors").statusCode());
    }

    @Test
    void proxiesPostBodiesAndPassesUpstreamStatus() throws Exception {
        HttpResponse<String> r = h1.send(HttpRequest.newBuilder(uri("/post"))
                .POST(HttpRequest.BodyPublishers.ofString("x".repeat(100_000))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(r.body().contains("body=100000"), r.body());
        assertEquals(418, get(h1, "/status?code=418").statusCode());
        HttpResponse<Void> head = h1.send(HttpRequest.newBuilder(uri("/head")).method("HEAD",
                HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.discarding());
        assertEquals(200, head.statusCode());
    }

    @Test
    void servesH2cUpgradeCallers() throws Exception {
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> r = get(h2, "/h2?i=" + i);
            assertEquals(200, r.statusCode());
            assertTrue(r.body().startsWith("GET /h2?i=" + i), r.body());
        }
        HttpResponse<String> r = get(h2, "/h2-after");
        assertEquals(HttpClient.Version.HTTP_2, r.version());
        HttpResponse<String> post = h2.send(HttpRequest.newBuilder(uri("/h2post"))
                .POST(HttpRequest.BodyPublishers.ofString("y".repeat(300_000))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(post.body().contains("body=300000"), post.body());
        assertEquals(503, get(h2, "/empty").statusCode());
        HttpResponse<String> none = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + sidecar.port("strict") + "/nothing-here")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, none.statusCode());
        assertEquals("no_route", none.headers().firstValue("x-remora-error").get());
    }

    @Test
    void manyConcurrentRequestsOnBothVersions() throws Exception {
        List<CompletableFuture<HttpResponse<String>>> fs = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            HttpClient c = i % 2 == 0 ? h1 : h2;
            fs.add(c.sendAsync(HttpRequest.newBuilder(uri("/c?i=" + i)).build(), HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < fs.size(); i++) {
            HttpResponse<String> r = fs.get(i).get(20, TimeUnit.SECONDS);
            assertEquals(200, r.statusCode());
            assertTrue(r.body().startsWith("GET /c?i=" + i + "\n"), r.body());
        }
    }

    @Test
    void answersPipelinedRequestsInOrderOnOneConnection() throws Exception {
        try (Socket s = new Socket("127.0.0.1", sidecar.port("web"))) {
            StringBuilder req = new StringBuilder();
            for (int i = 0; i < 5; i++) {
                req.append("GET /p").append(i).append(" HTTP/1.1\r\nHost: x\r\n\r\n");
            }
            s.getOutputStream().write(req.toString().getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            for (int i = 0; i < 5; i++) {
                String resp = readResponse(in);
                assertTrue(resp.startsWith("HTTP/1.1 200"), i + ": " + resp);
                assertTrue(resp.contains("GET /p" + i + "\n"), i + ": " + resp);
            }
        }
    }

    @Test
    void rejectsMalformedRequestLineAndHeaderFloodOthersUnaffected() throws Exception {
        try (Socket bystander = new Socket("127.0.0.1", sidecar.port("web"))) {
            bystander.getOutputStream().write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            assertTrue(readResponse(bystander.getInputStream()).startsWith("HTTP/1.1 200"));

            try (Socket bad = new Socket("127.0.0.1", sidecar.port("web"))) {
                bad.getOutputStream().write("GET /x HTTP/1.1 extra junk\r\nHost: x\r\n\r\n".getBytes());
                String resp = readResponse(bad.getInputStream());
                assertTrue(resp.startsWith("HTTP/1.1 400"), resp);
                assertEquals(-1, bad.getInputStream().read(), "connection closed");
            }
            try (Socket flood = new Socket("127.0.0.1", sidecar.port("web"))) {
                StringBuilder sb = new StringBuilder("GET /x HTTP/1.1\r\nHost: x\r\n");
                for (int i = 0; i < 400; i++) {
                    sb.append("X-Flood-").append(i).append(": ").append("v".repeat(20)).append("\r\n");
                }
                flood.getOutputStream().write(sb.append("\r\n").toString().getBytes());
                String resp = readResponse(flood.getInputStream());
                assertTrue(resp.startsWith("HTTP/1.1 431"), resp);
                assertEquals(-1, flood.getInputStream().read(), "connection closed");
            }
            try (Socket many = new Socket("127.0.0.1", sidecar.port("web"))) {
                StringBuilder sb = new StringBuilder("GET /x HTTP/1.1\r\nHost: x\r\n");
                for (int i = 0; i < 60; i++) {
                    sb.append("X-").append(i).append(": v\r\n");
                }
                many.getOutputStream().write(sb.append("\r\n").toString().getBytes());
                String resp = readResponse(many.getInputStream());
                assertTrue(resp.startsWith("HTTP/1.1 431"), resp);
            }
            try (Socket slow = new Socket("127.0.0.1", sidecar.port("web"))) {
                slow.getOutputStream().write("GET /slowloris HTTP/1.1\r\nHost: x\r\n".getBytes());
                slow.setSoTimeout(5000);
                String resp = readResponse(slow.getInputStream());
                assertTrue(resp.startsWith("HTTP/1.1 408"), resp);
                assertEquals(-1, slow.getInputStream().read(), "connection closed");
            }
            bystander.getOutputStream().write("GET /two HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
            assertTrue(readResponse(bystander.getInputStream()).contains("GET /two"));
        }
    }

    @Test
    void curlOverHttp1AndPriorKnowledgeH2c() throws Exception {
        if (!Curl.available()) {
            System.out.println("SKIPPED curl cases: curl is not on PATH");
            return;
        }
        String h1out = Curl.run("-s", "-i", "--http1.1", uri("/curl1").toString());
        assertTrue(h1out.startsWith("HTTP/1.1 200"), h1out);
        String h2out = Curl.run("-s", "-i", "--http2-prior-knowledge", uri("/curl2").toString());
        assertTrue(h2out.startsWith("HTTP/2 200"), h2out);
        assertTrue(h2out.contains("GET /curl2"), h2out);
        String up = Curl.run("-s", "-i", "--http2", uri("/curl3").toString());
        assertTrue(up.contains("HTTP/2 200"), up);
    }

    /** Reads one response with a Content-Length body (the test upstream always sends one). */
    static String readResponse(InputStream in) throws Exception {
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
        byte[] body = in.readNBytes(len);
        return head + new String(body, StandardCharsets.UTF_8);
    }

    static final class Curl {
        static boolean available() {
            try {
                return new ProcessBuilder("curl", "--version").start().waitFor() == 0;
            } catch (Exception e) {
                return false;
            }
        }

        static String run(String... args) throws Exception {
            List<String> cmd = new java.util.ArrayList<>(List.of("curl", "--max-time", "10"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(15, TimeUnit.SECONDS);
            return out;
        }
    }
}
