package io.remora.examples.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP side: an nginx origin (static bodies of every payload size, HTTP/1.1 and h2c), and nginx and haproxy as
 * peer proxies (one process, one worker thread each, like the sidecar's single event loop in the bench config).
 */
final class Peers implements AutoCloseable {

    final int originH1;
    final int originH2;
    final int grpcOrigin;
    final int nginxH1;
    final int nginxH2;
    final int nginxGrpc;
    final int haproxyH1;
    final int haproxyH2;
    final int haproxyGrpc;
    private final List<Process> processes = new ArrayList<>();
    Process nginx;
    Process haproxy;

    Peers(int grpcOrigin) throws IOException {
        this.grpcOrigin = grpcOrigin;
        originH1 = LoadHarness.freePort();
        originH2 = LoadHarness.freePort();
        nginxH1 = LoadHarness.freePort();
        nginxH2 = LoadHarness.freePort();
        nginxGrpc = LoadHarness.freePort();
        haproxyH1 = LoadHarness.freePort();
        haproxyH2 = LoadHarness.freePort();
        haproxyGrpc = LoadHarness.freePort();
    }

    static boolean available() {
        return onPath("nginx") && onPath("haproxy");
    }

    private static boolean onPath(String tool) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return Files.isExecutable(Path.of("/usr/sbin", tool));
    }

    private static String tool(String name) {
        return Files.isExecutable(Path.of("/usr/sbin", name)) ? "/usr/sbin/" + name : name;
    }

    void start(Path work, List<Integer> payloads) throws Exception {
        Path www = Files.createDirectories(work.resolve("www"));
        for (int p : payloads) {
            Files.write(www.resolve("p" + p), new byte[p]);
        }
        String common = "daemon off; master_process off; worker_processes 1; pid %s; error_log %s warn;\n"
                + "events { worker_connections 20000; }\n";
        Path originConf = work.resolve("nginx-origin.conf");
        Files.writeString(originConf, common.formatted(work.resolve("origin.pid"), work.resolve("origin-error.log"))
                + """
                http { access_log off; keepalive_requests 1000000; http2_max_concurrent_streams 1024;
                  server { listen 127.0.0.1:%d; root %s; }
                  server { listen 127.0.0.1:%d http2; root %s; }
                }
                """.formatted(originH1, www, originH2, www));
        Path proxyConf = work.resolve("nginx-proxy.conf");
        Files.writeString(proxyConf, common.formatted(work.resolve("proxy.pid"), work.resolve("proxy-error.log"))
                + """
                http { access_log off; keepalive_requests 1000000; http2_max_concurrent_streams 1024;
                  upstream origin { server 127.0.0.1:%d; keepalive 1024; keepalive_requests 1000000; }
                  upstream grpc_origin { server 127.0.0.1:%d; keepalive 64; }
                  server { listen 127.0.0.1:%d; location / { proxy_pass http://origin; proxy_http_version 1.1;
                    proxy_set_header Connection ""; proxy_buffering off; } }
                  server { listen 127.0.0.1:%d http2; location / { proxy_pass http://origin; proxy_http_version 1.1;
                    proxy_set_header Connection ""; proxy_buffering off; } }
                  server { listen 127.0.0.1:%d http2; location / { grpc_pass grpc://grpc_origin; } }
                }
                """.formatted(originH1, grpcOrigin, nginxH1, nginxH2, nginxGrpc));
        Path haproxyCfg = work.resolve("haproxy.cfg");
        Files.writeString(haproxyCfg, """
                global
                  nbthread 1
                  maxconn 9000
                defaults
                  mode http
                  maxconn 9000
                  timeout connect 5s
                  timeout client 60s
                  timeout server 60s
                frontend h1
                  bind 127.0.0.1:%d
                  default_backend origin
                frontend h2
                  bind 127.0.0.1:%d proto h2
                  default_backend origin
                frontend grpc
                  bind 127.0.0.1:%d proto h2
                  default_backend grpc_origin
                backend origin
                  http-reuse always
                  server o 127.0.0.1:%d
                backend grpc_origin
                  http-reuse always
                  server g 127.0.0.1:%d proto h2
                """.formatted(haproxyH1, haproxyH2, haproxyGrpc, originH1, grpcOrigin));
        processes.add(spawn(work, "nginx-origin", tool("nginx"), "-c", originConf.toString(), "-e",
                work.resolve("origin-error.log").toString()));
        nginx = spawnProxy(work, "nginx-proxy", tool("nginx"), "-c", proxyConf.toString(), "-e",
                work.resolve("proxy-error.log").toString());
        processes.add(nginx);
        haproxy = spawnProxy(work, "haproxy", tool("haproxy"), "-db", "-f", haproxyCfg.toString());
        processes.add(haproxy);
        for (int port : List.of(originH1, originH2, nginxH1, nginxH2, nginxGrpc, haproxyH1, haproxyH2, haproxyGrpc)) {
            awaitListening(port);
        }
    }

    /** A peer proxy under test: on the proxies' CPUs when pinning ({@link Pinning}). */
    private Process spawnProxy(Path work, String name, String... cmd) throws IOException {
        List<String> full = new ArrayList<>(Pinning.proxyPrefix());
        full.addAll(List.of(cmd));
        return spawn(work, name, full.toArray(String[]::new));
    }

    private Process spawn(Path work, String name, String... cmd) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(work.resolve(name + ".out").toFile()).start();
    }

    /** Nothing to await across processes: a bounded poll for the port. */
    static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("nothing listens on " + port + " after 20 s", e);
                }
                Thread.sleep(20);
            }
        }
    }

    @Override
    public void close() {
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
