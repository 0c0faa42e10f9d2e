package io.remora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import io.remora.testkit.sofa.HelloService;
import io.remora.testkit.sofa.HelloServiceImpl;
import io.remora.testkit.sofa.SofaRpcPeers;
import io.remora.testkit.dubbo.DemoConsumer;
import io.remora.testkit.dubbo.DemoProvider;
import io.remora.testkit.dubbo.DemoService;
import io.remora.testing.TestSidecar;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One {@code "protocol":"auto"} listener serves a real SOFARPC consumer (Bolt), a real Dubbo 3 consumer, an HTTP/1.1
 * client and h2c clients (the JDK client's {@code Upgrade: h2c}, and curl with prior knowledge when it has HTTP/2)
 * at the same time, each routed by its own key (Bolt service, Dubbo interface, HTTP path prefix) to its real provider.
 */
class AutoDetectAllProtocolsTest {

    private static final int CALLS = 150;
    private final SofaRpcPeers sofa = new SofaRpcPeers();
    private final List<AutoCloseable> closers = new ArrayList<>();
    private final List<HttpServer> servers = new ArrayList<>();
    private TestSidecar sidecar;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : closers) {
            c.close();
        }
        if (sidecar != null) {
            sidecar.close();
        }
        sofa.close();
        servers.forEach(s -> s.stop(0));
    }

    /** A JDK HttpServer answering {@code <name> <method> <path>}. */
    private int httpServer(String name) throws IOException {
        // The JDK server writes head and body separately; without TCP_NODELAY each answer waits for a delayed ACK.
        System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/", ex -> {
            ex.getRequestBody().readAllBytes();
            byte[] body = (name + " " + ex.getRequestMethod() + " " + ex.getRequestURI().getPath())
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        s.setExecutor(Executors.newFixedThreadPool(4));
        s.start();
        servers.add(s);
        return s.getAddress().getPort();
    }

    @Test
    void boltDubboHttp1AndH2cClientsShareOnePortConcurrently() throws Exception {
        int boltPort = sofa.provide(HelloService.class, new HelloServiceImpl(), null);
        DemoProvider dubbo = DemoProvider.start("d1");
        closers.add(dubbo);
        int web1 = httpServer("web1");
        int web2 = httpServer("web2");
        sidecar = TestSidecar.start("""
                {"admin":{"port":0},
                 "listeners":[{"name":"auto","address":"127.0.0.1:0","protocol":"auto","direction":"outbound",
                   "routes":[
                     {"match":{"service":"%s"},"cluster":"bolt_app","timeout_ms":5000},
                     {"match":{"service":"%s"},"cluster":"dubbo_app","timeout_ms":5000},
                     {"match":{"prefix":"/h1/"},"cluster":"web1","timeout_ms":5000},
                     {"match":{"prefix":"/h2/"},"cluster":"web2","timeout_ms":5000}]}],
                 "clusters":[
                   {"name":"bolt_app","protocol":"bolt","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"dubbo_app","protocol":"dubbo","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"web1","hosts":[{"address":"127.0.0.1:%d"}]},
                   {"name":"web2","hosts":[{"address":"127.0.0.1:%d"}]}]}
                """.formatted(HelloService.class.getName() + ":1.0", DemoService.class.getName(), boltPort,
                dubbo.port(), web1, web2));
        int port = sidecar.port("auto");

        HelloService bolt = sofa.consumer(HelloService.class, port, 5000);
        DemoConsumer dubboConsumer = new DemoConsumer("auto-client");
        closers.add(0, dubboConsumer);
        DemoService demo = dubboConsumer.demo(port, "g1", 5000, 0);
        HttpClient h1 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpClient h2 = HttpClient.newBuilder().version(HttpClient.Version.HTTP_2).build();
        boolean curl = curlHasHttp2();

        Map<String, AtomicInteger> ok = new ConcurrentHashMap<>();
        Queue<String> failures = new ConcurrentLinkedQueue<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Callable<Void>> clients = new ArrayList<>();
        for (int t = 0; t < 2; t++) {
            int thread = t;
            clients.add(loop("bolt", go, ok, failures, i -> {
                String who = "b" + thread + "-" + i;
                return bolt.sayHello(who).equals("hello " + who);
            }));
            clients.add(loop("dubbo", go, ok, failures, i -> {
                String who = "d" + thread + "-" + i;
                return demo.sayHello(who).equals("hello " + who + " from d1");
            }));
            clients.add(loop("http1", go, ok, failures, i -> {
                HttpResponse<String> r = h1.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/h1/" + i)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 && r.version() == HttpClient.Version.HTTP_1_1
                        && r.body().equals("web1 GET /h1/" + i);
            }));
            clients.add(loop("h2c-upgrade", go, ok, failures, i -> {
                HttpResponse<String> r = h2.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/h2/" + i)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 && r.version() == HttpClient.Version.HTTP_2
                        && r.body().equals("web2 GET /h2/" + i);
            }));
        }
        if (curl) {
            clients.add(() -> {
                go.await();
                for (int round = 0; round < 20; round++) {
                    curlPriorKnowledge(port, round, ok, failures);
                }
                return null;
            });
        }
        ExecutorService pool = Executors.newFixedThreadPool(clients.size());
        try {
            List<Future<Void>> fs = new ArrayList<>();
            clients.forEach(c -> fs.add(pool.submit(c)));
            go.countDown();
            for (Future<Void> f : fs) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(List.of(), List.copyOf(failures), "failed calls");
        for (String kind : List.of("bolt", "dubbo", "http1", "h2c-upgrade")) {
            assertEquals(2 * CALLS, ok.get(kind).get(), kind);
        }
        if (curl) {
            assertEquals(20, ok.get("h2c-prior-knowledge").get());
        }
    }

    private interface Call {
        boolean call(int i) throws Exception;
    }

    private static Callable<Void> loop(String kind, CountDownLatch go, Map<String, AtomicInteger> ok,
                                       Queue<String> failures, Call call) {
        return () -> {
            go.await();
            for (int i = 0; i < CALLS; i++) {
                try {
                    if (call.call(i)) {
                        ok.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
                    } else {
                        failures.add(kind + " call " + i + ": wrong answer");
                    }
                } catch (Exception e) {
                    failures.add(kind + " call " + i + ": " + e);
                }
            }
            return null;
        };
    }

    private static boolean curlHasHttp2() {
        try {
            Process p = new ProcessBuilder("curl", "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0 && out.contains("HTTP2");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * One h2c prior-knowledge request per curl process: curl 7.88.1 breaks its own prior-knowledge connection on reuse
     * ("Error in the HTTP2 framing layer" before sending the second request; curl/curl#10634, fixed in 8.0), so
     * multiplexing is left to the JDK client above.
     */
    private static void curlPriorKnowledge(int port, int round, Map<String, AtomicInteger> ok,
                                           Queue<String> failures) throws Exception {
        String path = "/h2/c" + round;
        Process p = new ProcessBuilder("curl", "-sS", "--http2-prior-knowledge", "--max-time", "20",
                "-w", "|%{http_version}|%{http_code}", "http://127.0.0.1:" + port + path)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            failures.add("curl did not finish");
            return;
        }
        String want = "web2 GET " + path + "|2|200";
        if (out.equals(want)) {
            ok.computeIfAbsent("h2c-prior-knowledge", k -> new AtomicInteger()).incrementAndGet();
        } else {
            failures.add("curl: expected " + want + ", got " + out);
        }
    }
}
