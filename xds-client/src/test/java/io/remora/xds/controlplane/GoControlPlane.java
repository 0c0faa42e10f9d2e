package io.remora.xds.controlplane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.protobuf.Message;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * The go-control-plane test peer ({@code src/test/go}) as a real process on 127.0.0.1: built once per JVM with
 * {@code go build} into {@code target/xds-testcp/}, driven over its JSON control API. Tests that need it are skipped
 * (with a message) when no Go toolchain is found; a failing build fails them.
 */
public final class GoControlPlane implements AutoCloseable {

    public enum Cache { SNAPSHOT, LINEAR }

    public static final String LISTENER = "type.googleapis.com/envoy.config.listener.v3.Listener";
    public static final String ROUTE = "type.googleapis.com/envoy.config.route.v3.RouteConfiguration";
    public static final String CLUSTER = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
    public static final String ENDPOINT = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";
    public static final String SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Path MODULE = Path.of(System.getProperty("basedir", ".")).toAbsolutePath();
    private static final Path OUT = MODULE.resolve("target/xds-testcp");
    private static final AtomicInteger RUNS = new AtomicInteger();
    private static Path binary;

    private final Cache cache;
    private final boolean delta;
    private final Process process;
    private final int xdsPort;
    private final int httpPort;
    private final Path log;

    private GoControlPlane(Cache cache, boolean delta, Process process, int xdsPort, int httpPort, Path log) {
        this.cache = cache;
        this.delta = delta;
        this.process = process;
        this.xdsPort = xdsPort;
        this.httpPort = httpPort;
        this.log = log;
    }

    /** Starts a control plane on free ports; {@code delta} false answers delta streams with UNIMPLEMENTED. */
    public static GoControlPlane start(Cache cache, boolean delta) throws Exception {
        return start(cache, delta, 0, 0, false, null);
    }

    /** Also serving on unix socket {@code uds} (ADS and SDS's StreamSecrets), as istio-agent serves secrets. */
    public static GoControlPlane start(Cache cache, boolean delta, Path uds) throws Exception {
        return start(cache, delta, 0, 0, false, uds);
    }

    /**
     * A new process on the same ports (after {@link #kill}): a control plane that restarted with empty state. Its ADS
     * port opens with the first {@link #update}, like a control plane that serves once it has synced.
     */
    public GoControlPlane restart() throws Exception {
        kill();
        // The old socket is gone with its process; a bind can still race its teardown on a loaded machine.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            try {
                return start(cache, delta, xdsPort, httpPort, true, null);
            } catch (IllegalStateException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static GoControlPlane start(Cache cache, boolean delta, int xdsPort, int httpPort, boolean hold,
                                        Path uds) throws Exception {
        Path bin = binary();
        Path log = OUT.resolve("testcp-" + RUNS.incrementAndGet() + ".log");
        List<String> cmd = new ArrayList<>(List.of(bin.toString(), "-cache", cache.name().toLowerCase(),
                "-xds", "127.0.0.1:" + xdsPort, "-http", "127.0.0.1:" + httpPort));
        if (!delta) {
            cmd.add("-no-delta");
        }
        if (hold) {
            cmd.add("-hold");
        }
        if (uds != null) {
            cmd.add("-uds");
            cmd.add(uds.toString());
        }
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        CompletableFuture<int[]> ports = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            int[] found = {hold ? xdsPort : -1, -1};
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("XDS_PORT=")) {
                        found[0] = Integer.parseInt(line.substring(9).trim());
                    } else if (line.startsWith("HTTP_PORT=")) {
                        found[1] = Integer.parseInt(line.substring(10).trim());
                    }
                    if (found[0] > 0 && found[1] > 0) {
                        ports.complete(found);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            ports.complete(null);
        }, "testcp-stdout");
        reader.setDaemon(true);
        reader.start();
        int[] got = ports.get(30, TimeUnit.SECONDS);
        if (got == null) {
            p.waitFor(5, TimeUnit.SECONDS);
            throw new IllegalStateException("test control plane did not start (" + cmd + "): "
                    + Files.readString(log).strip());
        }
        return new GoControlPlane(cache, delta, p, got[0], got[1], log);
    }

    /** Builds the peer once per JVM; skips the calling test when there is no Go toolchain. */
    static synchronized Path binary() throws Exception {
        if (binary != null) {
            return binary;
        }
        Path go = goTool();
        Assumptions.assumeTrue(go != null, "no Go toolchain found (go on PATH, $GO, /usr/local/go/bin/go): skipping "
                + "the go-control-plane interop tests (.ci/run installs one)");
        Files.createDirectories(OUT);
        Path bin = OUT.resolve("testcp");
        ProcessBuilder pb = new ProcessBuilder(go.toString(), "build", "-o", bin.toString(), ".")
                .directory(MODULE.resolve("src/test/go").toFile()).redirectErrorStream(true);
        pb.environment().put("GOFLAGS", "-mod=readonly -buildvcs=false");
        pb.environment().put("GOTOOLCHAIN", "local");
        if (System.getenv("HOME") == null && System.getenv("GOCACHE") == null) {
            pb.environment().put("GOCACHE", OUT.resolve("gocache").toString());
            pb.environment().put("GOPATH", OUT.resolve("gopath").toString());
        }
        Process p = pb.start();
        CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("go build of src/test/go took over 10 minutes");
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("go build of src/test/go failed (" + go + "):\n" + output.get(10,
                    TimeUnit.SECONDS));
        }
        binary = bin;
        return bin;
    }

    private static Path goTool() {
        List<Path> candidates = new ArrayList<>();
        String explicit = System.getenv("GO");
        if (explicit != null && !explicit.isBlank()) {
            candidates.add(Path.of(explicit));
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String dir : path.split(File.pathSeparator)) {
                if (!dir.isEmpty()) {
                    candidates.add(Path.of(dir, "go"));
                }
            }
        }
        candidates.add(Path.of("/usr/local/go/bin/go"));
        candidates.add(Path.of("/usr/lib/go/bin/go"));
        return candidates.stream().filter(Files::isExecutable).findFirst().orElse(null);
    }

    public int xdsPort() {
        return xdsPort;
    }

    public Path log() {
        return log;
    }

    /** Sets (adds or replaces) {@code set} and deletes {@code delete} (type URL, name pairs) in one update. */
    public void update(String version, List<? extends Message> set, List<String[]> delete) throws Exception {
        ObjectNode body = JSON.createObjectNode();
        body.put("version", version);
        ArrayNode s = body.putArray("set");
        for (Message m : set) {
            s.add(Base64.getEncoder().encodeToString(Any.pack(m).toByteArray()));
        }
        ArrayNode d = body.putArray("delete");
        for (String[] td : delete) {
            d.addObject().put("type", td[0]).put("name", td[1]);
        }
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                        + "/update")).timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("update rejected by the test control plane: " + r.body());
        }
    }

    public void set(String version, Message... resources) throws Exception {
        update(version, List.of(resources), List.of());
    }

    /** Every request received and response sent, and the ACK/NACK state per node and type (see main.go). */
    public JsonNode status() {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                    + "/status")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Requests of {@code typeUrl}, in arrival order. */
    public List<JsonNode> requests(String typeUrl) {
        List<JsonNode> out = new ArrayList<>();
        status().path("requests").forEach(r -> {
            if (r.path("type").asText().equals(typeUrl)) {
                out.add(r);
            }
        });
        return out;
    }

    /** Responses of {@code typeUrl}, in send order. */
    public List<JsonNode> responses(String typeUrl) {
        List<JsonNode> out = new ArrayList<>();
        status().path("responses").forEach(r -> {
            if (r.path("type").asText().equals(typeUrl)) {
                out.add(r);
            }
        });
        return out;
    }

    /** Whether a response of {@code typeUrl} that named {@code resource} (or removed it) was ACKed. */
    public boolean acked(String typeUrl, String resource) {
        return answered(typeUrl, resource, false) != null;
    }

    /** The NACK (its request record) of a response of {@code typeUrl} naming {@code resource}, or null. */
    public JsonNode nacked(String typeUrl, String resource) {
        return answered(typeUrl, resource, true);
    }

    private JsonNode answered(String typeUrl, String resource, boolean nack) {
        JsonNode st = status();
        for (JsonNode resp : st.path("responses")) {
            if (!resp.path("type").asText().equals(typeUrl) || !(contains(resp.path("resources"), resource)
                    || contains(resp.path("removed"), resource))) {
                continue;
            }
            for (JsonNode req : st.path("requests")) {
                if (req.path("stream").asText().equals(resp.path("stream").asText())
                        && req.path("nonce").asText().equals(resp.path("nonce").asText())
                        && req.path("error").isNull() != nack) {
                    return req;
                }
            }
        }
        return null;
    }

    private static boolean contains(JsonNode array, String s) {
        for (JsonNode n : array) {
            if (n.asText().equals(s)) {
                return true;
            }
        }
        return false;
    }

    /** Ends the process at once (SIGKILL), as a crashed control plane. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        try {
            kill();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
