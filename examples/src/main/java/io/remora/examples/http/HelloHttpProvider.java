package io.remora.examples.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A plain HTTP/1.1 provider on the JDK's built-in server: {@code GET /hello?name=x} answers {@code hello x}
 * (text/plain); any other path is a 404. It echoes {@code x-request-id} and {@code x-forwarded-for} as
 * {@code x-seen-request-id} / {@code x-seen-forwarded-for}, so a caller can see what the sidecar added.
 *
 * <pre>java -cp 'examples/target/classes:examples/target/lib/*' io.remora.examples.http.HelloHttpProvider [port]</pre>
 */
public final class HelloHttpProvider implements AutoCloseable {

    public static final int DEFAULT_PORT = 18080;

    private final HttpServer server;
    private final ExecutorService executor;

    private HelloHttpProvider(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** Serves on 127.0.0.1:{@code port}; returns once it accepts connections. */
    public static HelloHttpProvider start(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 64);
        ExecutorService executor = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "hello-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/", HelloHttpProvider::handle);
        server.start();
        return new HelloHttpProvider(server, executor);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void handle(HttpExchange ex) throws IOException {
        try (ex) {
            ex.getRequestBody().readAllBytes();
            String path = ex.getRequestURI().getPath();
            int status;
            String body;
            if ("/hello".equals(path) && "GET".equals(ex.getRequestMethod())) {
                status = 200;
                body = "hello " + queryParam(ex.getRequestURI().getRawQuery(), "name", "world");
            } else {
                status = 404;
                body = "no such page: " + ex.getRequestMethod() + " " + path;
            }
            echo(ex, "x-request-id", "x-seen-request-id");
            echo(ex, "x-forwarded-for", "x-seen-forwarded-for");
            byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            ex.sendResponseHeaders(status, bytes.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    private static void echo(HttpExchange ex, String header, String as) {
        String v = ex.getRequestHeaders().getFirst(header);
        if (v != null) {
            ex.getResponseHeaders().set(as, v);
        }
    }

    static String queryParam(String rawQuery, String name, String dflt) {
        if (rawQuery == null) {
            return dflt;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = eq < 0 ? pair : pair.substring(0, eq);
            if (name.equals(URLDecoder.decode(key, StandardCharsets.UTF_8))) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return dflt;
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }

    public static void main(String[] args) throws Exception {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_PORT;
        HelloHttpProvider p = start(port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            p.close();
            stopped.countDown();
        }, "hello-http-shutdown"));
        System.out.println("HelloHttpProvider: GET /hello?name=x serving on http://127.0.0.1:" + p.port());
        stopped.await();
    }
}
