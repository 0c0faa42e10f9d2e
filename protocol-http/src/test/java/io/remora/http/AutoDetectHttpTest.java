package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.remora.core.testproto.TestClient;
import io.remora.core.testproto.TestUpstream;
import io.remora.testing.TestSidecar;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * One {@code "protocol":"auto"} port serving an RPC protocol (the core's test-only one; Bolt and Dubbo are covered in
 * their own modules), HTTP/1.1, h2c upgrade and h2c prior knowledge at the same time.
 */
class AutoDetectHttpTest {

    @Test
    void servesRpcHttp1AndHttp2CallersOnOnePortAtOnce() throws Exception {
        try (TestUpstream rpc = new TestUpstream(); HttpUpstreamServer web = new HttpUpstreamServer("web");
             TestSidecar sidecar = TestSidecar.start("""
                     {"admin":{"port":0},
                      "listeners":[{"name":"any","address":"127.0.0.1:0","protocol":"auto",
                        "routes":[{"match":{"service":"svc.Echo"},"cluster":"rpc"},
                                  {"match":{"prefix":"/"},"cluster":"web"}]}],
                      "clusters":[{"name":"rpc","hosts":[{"address":"127.0.0.1:%d"}]},
                                  {"name":"web","hosts":[{"address":"127.0.0.1:%d"}]}]}
                     """.formatted(rpc.port(), web.port()))) {
            int port = sidecar.port("any");
            URI base = URI.create("http://127.0.0.1:" + port);
            HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> fs = new ArrayList<>();
                fs.add(pool.submit(() -> {
                    try (TestClient c = new TestClient(port)) {
                        for (int i = 0; i < 50; i++) {
                            TestClient.Reply r = c.call(i + 1, "svc.Echo", "echo", "p" + i);
                            assertTrue(r.ok(), r.toString());
                        }
                    }
                    return null;
                }));
                for (HttpClient c : List.of(h1, h2)) {
                    fs.add(pool.submit(() -> {
                        for (int i = 0; i < 50; i++) {
                            HttpResponse<String> r = c.send(HttpRequest.newBuilder(base.resolve("/x" + i)).build(),
                                    HttpResponse.BodyHandlers.ofString());
                            assertEquals(200, r.statusCode());
                            assertTrue(r.body().startsWith("GET /x" + i + "\n"), r.body());
                            if (i > 0) {
                                assertEquals(c.version(), r.version());
                            }
                        }
                        return null;
                    }));
                }
                fs.add(pool.submit(() -> {
                    if (!HttpProxyTest.Curl.available()) {
                        System.out.println("SKIPPED curl prior-knowledge case: curl is not on PATH");
                        return null;
                    }
                    for (int i = 0; i < 5; i++) {
                        String out = HttpProxyTest.Curl.run("-s", "-i", "--http2-prior-knowledge",
                                base.resolve("/pk" + i).toString());
                        assertTrue(out.startsWith("HTTP/2 200") && out.contains("GET /pk" + i), out);
                    }
                    return null;
                }));
                for (Future<?> f : fs) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }
}
