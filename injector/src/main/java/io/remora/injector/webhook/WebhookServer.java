package io.remora.injector.webhook;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import io.remora.injector.Json;
import io.remora.injector.inject.InjectionConfigSource;
import io.remora.injector.inject.PodInjector;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mutating admission webhook: HTTPS (certificate and key from PEM files, re-read when they change; Kubernetes
 * calls webhooks over TLS only) or, for local testing, plain HTTP. Paths: {@code POST /inject} (AdmissionReview),
 * {@code GET /healthz}, {@code GET /ready}, {@code GET /metrics} (Prometheus text). Built on the JDK's HTTP server:
 * an admission webhook sees one request per pod creation, so a small thread pool is plenty.
 */
public final class WebhookServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WebhookServer.class);
    /** An oversized body is read and dropped up to this much, then the connection is closed. */
    private static final long DRAIN_LIMIT = 64L << 20;

    /**
     * @param tlsCert       PEM certificate chain; null (with {@code tlsKey} null) for plain HTTP
     * @param failClosed    deny a pod whose injection fails instead of letting it through without a sidecar
     * @param reloadInterval how often the config and certificate files are checked for changes
     * @param maxBodyBytes  larger requests are refused before they are read (a pod is at most ~1.5 MB in etcd)
     */
    public record Options(InetSocketAddress bind, Path tlsCert, Path tlsKey, boolean failClosed, int threads,
                          Duration reloadInterval, int maxBodyBytes) {
        public Options {
            requireNonNull(bind, "bind");
            if ((tlsCert == null) != (tlsKey == null)) {
                throw new IllegalArgumentException("tlsCert and tlsKey go together");
            }
            if (threads < 1) throw new IllegalArgumentException("threads must be >= 1");
            requireNonNull(reloadInterval, "reloadInterval");
            if (maxBodyBytes < 1024) throw new IllegalArgumentException("maxBodyBytes must be >= 1024");
        }

        public static Options plain(InetSocketAddress bind) {
            return new Options(bind, null, null, false, 4, Duration.ofSeconds(2), 8 << 20);
        }

        public Options withTls(Path cert, Path key) {
            return new Options(bind, cert, key, failClosed, threads, reloadInterval, maxBodyBytes);
        }

        public Options withFailClosed(boolean closed) {
            return new Options(bind, tlsCert, tlsKey, closed, threads, reloadInterval, maxBodyBytes);
        }

        public Options withReloadInterval(Duration interval) {
            return new Options(bind, tlsCert, tlsKey, failClosed, threads, interval, maxBodyBytes);
        }
    }

    private final HttpServer server;
    private final ExecutorService executor;
    private final ScheduledExecutorService certPoller;
    private final InjectionConfigSource config;

    private WebhookServer(HttpServer server, ExecutorService executor, ScheduledExecutorService certPoller,
                          InjectionConfigSource config) {
        this.server = server;
        this.executor = executor;
        this.certPoller = certPoller;
        this.config = config;
    }

    /** Binds and serves; the config source is polled for changes until {@link #close()} (which also closes it). */
    public static WebhookServer start(Options options, InjectionConfigSource config)
            throws IOException, GeneralSecurityException {
        requireNonNull(options, "options");
        requireNonNull(config, "config");
        WebhookMetrics metrics = new WebhookMetrics();
        AdmissionHandler handler = new AdmissionHandler(new PodInjector(config), options.failClosed(), metrics);

        ReloadingKeyManager keys = null;
        HttpServer server;
        if (options.tlsCert() != null) {
            keys = new ReloadingKeyManager(options.tlsCert(), options.tlsKey());
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(new KeyManager[] {keys}, null, null);
            HttpsServer https = HttpsServer.create(options.bind(), 64);
            https.setHttpsConfigurator(new HttpsConfigurator(ssl) {
                @Override
                public void configure(HttpsParameters params) {
                    SSLParameters p = getSSLContext().getDefaultSSLParameters();
                    p.setProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
                    params.setSSLParameters(p);
                }
            });
            server = https;
        } else {
            server = HttpServer.create(options.bind(), 64);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(options.threads(), r -> {
            Thread t = new Thread(r, "remora-injector-http-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);

        ReloadingKeyManager tls = keys;
        int maxBody = options.maxBodyBytes();
        server.createContext("/inject", ex -> serve(ex, () -> {
            if (!ex.getRequestMethod().equals("POST")) return text(ex, 405, "POST an AdmissionReview\n");
            byte[] body = readBody(ex, maxBody);
            if (body == null) return text(ex, 413, "request body over " + maxBody + " bytes\n");
            AdmissionHandler.Reply reply = handler.handle(body);
            return send(ex, reply.status(), "application/json", Json.JSON.writeValueAsBytes(reply.body()));
        }));
        server.createContext("/healthz", ex -> serve(ex, () -> text(ex, 200, "ok\n")));
        server.createContext("/ready", ex -> serve(ex, () -> text(ex, 200, "ready " + config.get().version() + "\n")));
        server.createContext("/metrics", ex -> serve(ex, () -> {
            String expiry = tls == null ? null : Long.toString(tls.leaf().getNotAfter().getTime() / 1000);
            byte[] text = metrics.prometheus(config, expiry).getBytes(StandardCharsets.UTF_8);
            return send(ex, 200, "text/plain; version=0.0.4", text);
        }));
        server.createContext("/", ex -> serve(ex, () -> text(ex, 404, "paths: /inject /healthz /ready /metrics\n")));
        server.start();

        config.startPolling(options.reloadInterval());
        ScheduledExecutorService certPoller = null;
        if (keys != null) {
            certPoller = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "remora-injector-cert");
                t.setDaemon(true);
                return t;
            });
            long ms = Math.max(1, options.reloadInterval().toMillis());
            certPoller.scheduleWithFixedDelay(tls::reload, ms, ms, TimeUnit.MILLISECONDS);
        }
        log.info("remora injector webhook on {}://{}:{} (config {}, {})", keys != null ? "https" : "http",
                server.getAddress().getHostString(), server.getAddress().getPort(), config.get().version(),
                options.failClosed() ? "fail-closed" : "fail-open");
        return new WebhookServer(server, executor, certPoller, config);
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Stops accepting, lets exchanges in progress finish for up to a second, then stops the pollers. */
    @Override
    public void close() {
        server.stop(1);
        executor.shutdown();
        if (certPoller != null) certPoller.shutdownNow();
        config.close();
        log.info("remora injector webhook stopped");
    }

    private interface Exchange {
        Void run() throws IOException;
    }

    /** Every exchange ends here: an exception answers 500 (if nothing was sent yet) and never reaches the server. */
    private static void serve(HttpExchange ex, Exchange body) {
        try (ex) {
            body.run();
        } catch (IOException | RuntimeException e) {
            log.warn("{} {} from {}: {}", ex.getRequestMethod(), ex.getRequestURI(), ex.getRemoteAddress(),
                    e.toString());
            try {
                if (ex.getResponseCode() == -1) text(ex, 500, "internal error\n");
            } catch (IOException | RuntimeException ignored) {
                // the connection is gone
            }
        }
    }

    /**
     * The body, or null when it exceeds {@code max}: refused on its Content-Length before anything is buffered; the
     * rest is read and dropped (up to a bound) so the client, still sending, gets the 413 rather than a reset.
     */
    private static byte[] readBody(HttpExchange ex, int max) throws IOException {
        String declared = ex.getRequestHeaders().getFirst("Content-Length");
        boolean tooLarge = false;
        if (declared != null) {
            try {
                tooLarge = Long.parseLong(declared.strip()) > max;
            } catch (NumberFormatException e) {
                return new byte[0];
            }
        }
        try (InputStream in = ex.getRequestBody()) {
            ByteArrayOutputStream out = tooLarge ? null : new ByteArrayOutputStream(8192);
            byte[] buf = new byte[8192];
            long total = 0;
            int r;
            while ((r = in.read(buf)) > 0) {
                total += r;
                if (total > max) {
                    out = null;
                    if (total > DRAIN_LIMIT) break;
                } else if (out != null) {
                    out.write(buf, 0, r);
                }
            }
            return out == null ? null : out.toByteArray();
        }
    }

    private static Void text(HttpExchange ex, int status, String body) throws IOException {
        return send(ex, status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
    }

    private static Void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
        return null;
    }
}
