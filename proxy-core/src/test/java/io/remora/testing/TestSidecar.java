package io.remora.testing;

import io.remora.core.Sidecar;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.SidecarConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * An in-process sidecar for tests: config from a JSON string (use {@code 127.0.0.1:0} for listeners and
 * {@code "admin": {"port": 0}} so tests never collide), logs in a fresh temp dir, nothing on stdout.
 */
public final class TestSidecar implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Sidecar sidecar;
    private final Path logDir;

    private TestSidecar(Sidecar sidecar, Path logDir) {
        this.sidecar = sidecar;
        this.logDir = logDir;
    }

    public static TestSidecar start(String json) throws Exception {
        SidecarConfig cfg = ConfigLoader.parse(json);
        Path logDir = Files.createTempDirectory("remora-test-logs");
        return new TestSidecar(Sidecar.start(cfg, new Sidecar.Options(logDir, false, "test")), logDir);
    }

    public Sidecar sidecar() {
        return sidecar;
    }

    public Path logDir() {
        return logDir;
    }

    /** Where listener {@code name} actually listens. */
    public InetSocketAddress listener(String name) {
        InetSocketAddress a = sidecar.listenerAddress(name);
        if (a == null) {
            throw new IllegalArgumentException("no listener " + name);
        }
        return a;
    }

    public int port(String name) {
        return listener(name).getPort();
    }

    public int adminPort() {
        return sidecar.adminAddress().getPort();
    }

    /** A plain HTTP call to the admin port: returns status and body. */
    public AdminReply admin(String method, String path, String body) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort() + path))
                    .timeout(Duration.ofSeconds(10));
            b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new AdminReply(r.statusCode(), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public record AdminReply(int status, String body) {
    }

    /** A port free right now on 127.0.0.1 (for upstream test servers that need a fixed port before config). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        sidecar.close();
    }
}
