package io.remora.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/1.1 upstream (the JDK's server) for tests. {@code /echo} answers the request line, headers (as
 * {@code h:name=value} lines, lower-case) and body length; {@code /download?bytes=N} streams N bytes chunked;
 * {@code /upload} reads the body to its end and answers its length; {@code /slow?ms=N} answers after N ms;
 * {@code /status?code=N} answers with that status.
 */
final class HttpUpstreamServer implements AutoCloseable {

    final HttpServer server;
    private final ExecutorService pool = Executors.newFixedThreadPool(8);
    final AtomicInteger requests = new AtomicInteger();
    final String name;

    HttpUpstreamServer(String name) throws IOException {
        this.name = name;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        requests.incrementAndGet();
        String path = ex.getRequestURI().getPath();
        String query = ex.getRequestURI().getRawQuery();
        try (ex) {
            long bodyBytes = drain(ex.getRequestBody());
            ex.getResponseHeaders().set("x-upstream", name);
            if (path.startsWith("/download")) {
                long n = Long.parseLong(param(query, "bytes"));
                ex.sendResponseHeaders(200, 0);
                byte[] chunk = new byte[64 * 1024];
                try (OutputStream os = ex.getResponseBody()) {
                    for (long left = n; left > 0; left -= chunk.length) {
                        os.write(chunk, 0, (int) Math.min(chunk.length, left));
                    }
                }
                return;
            }
            if (path.startsWith("/slow")) {
                try {
                    Thread.sleep(Long.parseLong(param(query, "ms")));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            int code = path.startsWith("/status") ? Integer.parseInt(param(query, "code")) : 200;
            StringBuilder sb = new StringBuilder();
            sb.append(ex.getRequestMethod()).append(' ').append(ex.getRequestURI()).append('\n');
            Map<String, List<String>> sorted = new TreeMap<>();
            ex.getRequestHeaders().forEach((k, v) -> sorted.put(k.toLowerCase(), v));
            sorted.forEach((k, v) -> sb.append("h:").append(k).append('=').append(String.join(",", v)).append('\n'));
            sb.append("body=").append(bodyBytes).append('\n');
            byte[] out = sb.toString().getBytes(StandardCharsets.UTF_8);
            if ("HEAD".equals(ex.getRequestMethod())) {
                ex.sendResponseHeaders(code, -1);
                return;
            }
            ex.sendResponseHeaders(code, out.length);
            ex.getResponseBody().write(out);
        }
    }

    private static long drain(InputStream in) throws IOException {
        byte[] buf = new byte[64 * 1024];
        long n = 0;
        for (int r; (r = in.read(buf)) > 0; ) {
            n += r;
        }
        return n;
    }

    private static String param(String query, String name) {
        for (String kv : query.split("&")) {
            if (kv.startsWith(name + "=")) {
                return kv.substring(name.length() + 1);
            }
        }
        throw new IllegalArgumentException("missing " + name);
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
