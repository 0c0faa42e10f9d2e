package io.remora.attack;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/** The upstream side of the attacks: a real HTTP origin that counts requests, and raw TCP peers that never answer. */
final class Origins {

    private Origins() {
    }

    /**
     * The JDK's HTTP server: every path answers "hello"; requests for {@code /attack...} (the attackers' paths; the
     * healthy client asks for {@code /hello}) are counted.
     */
    static final class HttpOrigin implements AutoCloseable {
        private final HttpServer server;
        private final ExecutorService pool = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "http-origin");
            t.setDaemon(true);
            return t;
        });
        final AtomicLong requests = new AtomicLong();

        HttpOrigin() throws IOException {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
            server.createContext("/", ex -> {
                if (ex.getRequestURI().getPath().startsWith("/attack")) {
                    requests.incrementAndGet();
                }
                try (ex) {
                    ex.getRequestBody().readAllBytes();
                    byte[] body = "hello".getBytes(StandardCharsets.US_ASCII);
                    ex.getResponseHeaders().set("content-type", "text/plain");
                    ex.sendResponseHeaders(200, body.length);
                    ex.getResponseBody().write(body);
                }
            });
            server.setExecutor(pool);
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        @Override
        public void close() {
            server.stop(0);
            pool.shutdownNow();
        }
    }

    /**
     * A provider that accepts, and reads nothing while paused (its kernel buffers fill and the sidecar's writes to
     * it queue up); once released it reads and discards everything. It never answers.
     */
    static final class SlowUpstream implements AutoCloseable {
        private final ServerSocket server;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private volatile boolean paused;
        final AtomicLong bytes = new AtomicLong();
        private final Object lock = new Object();

        SlowUpstream(boolean paused) throws IOException {
            this.paused = paused;
            server = new ServerSocket();
            server.setReceiveBufferSize(64 * 1024); // small windows: what it does not read stays in the sidecar
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
            Thread t = new Thread(this::acceptLoop, "slow-upstream-accept");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        void pause() {
            paused = true;
        }

        void release() {
            synchronized (lock) {
                paused = false;
                lock.notifyAll();
            }
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    sockets.add(s);
                    Thread t = new Thread(() -> drain(s), "slow-upstream-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void drain(Socket s) {
            byte[] buf = new byte[64 * 1024];
            try (s; InputStream in = s.getInputStream()) {
                while (true) {
                    synchronized (lock) {
                        while (paused) {
                            lock.wait();
                        }
                    }
                    int n = in.read(buf);
                    if (n < 0) {
                        return;
                    }
                    bytes.addAndGet(n);
                }
            } catch (IOException | InterruptedException e) {
                // closed
            }
        }

        @Override
        public void close() throws IOException {
            release();
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /** Writes {@code bytes} and flushes; an IOException (the peer reset us) ends the write quietly. */
    static boolean write(OutputStream out, byte[] bytes) {
        try {
            out.write(bytes);
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
