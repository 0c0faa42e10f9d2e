package io.remora.examples.xds;

import io.remora.testkit.xds.ControlPlane;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Message;
import com.google.protobuf.TypeRegistry;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A standalone xDS control plane that serves Envoy v3 resources from a JSON file and pushes a new snapshot whenever the
 * file changes (checked twice a second). File format, every list optional, each element in Envoy's proto3 JSON:
 * <pre>{"version": "7", "clusters": [...], "endpoints": [...], "listeners": [...], "routes": [...]}</pre>
 * Without {@code version}, each load gets a fresh one. Run: {@code FileControlPlane <file.json> [port, default 15010]}.
 * It lives in the examples module (never in dist/lib): java-control-plane must not be on the sidecar's class path.
 * scripts/xds-demo.sh runs it with examples/xds/resources.json.
 */
public final class FileControlPlane implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFormat.Parser PARSER = JsonFormat.parser().usingTypeRegistry(TypeRegistry.newBuilder()
            .add(com.github.xds.type.v3.TypedStruct.getDescriptor())
            .add(com.github.udpa.udpa.type.v1.TypedStruct.getDescriptor())
            .add(HttpConnectionManager.getDescriptor())
            .build());

    private final Path file;
    private final ControlPlane server;
    private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "file-control-plane");
        t.setDaemon(true);
        return t;
    });
    private FileTime lastModified;
    private int loads;
    private volatile String lastError;

    public FileControlPlane(Path file, int port) throws IOException {
        this.file = file;
        this.server = new ControlPlane(port);
        reloadIfChanged();
        poller.scheduleWithFixedDelay(this::reloadIfChanged, 500, 500, TimeUnit.MILLISECONDS);
    }

    public int port() {
        return server.port();
    }

    public ControlPlane server() {
        return server;
    }

    public String lastError() {
        return lastError;
    }

    /** Loads and pushes the file if its modification time changed; a bad file is reported and the last one kept. */
    public synchronized void reloadIfChanged() {
        try {
            FileTime t = Files.getLastModifiedTime(file);
            if (t.equals(lastModified)) {
                return;
            }
            lastModified = t;
            Snapshot s = load(Files.readString(file), "file-" + (++loads));
            server.push(s);
            lastError = null;
            System.out.println("file-control-plane: pushed version " + s.clusters().version() + " from " + file);
        } catch (IOException | RuntimeException e) {
            lastError = e.toString();
            System.err.println("file-control-plane: cannot load " + file + ": " + e);
        }
    }

    static Snapshot load(String text, String defaultVersion) throws IOException {
        JsonNode root = JSON.readTree(text);
        String version = root.hasNonNull("version") ? root.get("version").asText() : defaultVersion;
        return Snapshot.create(
                parse(root.get("clusters"), Cluster::newBuilder),
                parse(root.get("endpoints"), ClusterLoadAssignment::newBuilder),
                parse(root.get("listeners"), Listener::newBuilder),
                parse(root.get("routes"), RouteConfiguration::newBuilder),
                List.of(), version);
    }

    @SuppressWarnings("unchecked")
    private static <T extends Message> List<T> parse(JsonNode list, Supplier<? extends Message.Builder> builder)
            throws IOException {
        List<T> out = new ArrayList<>();
        if (list == null) {
            return out;
        }
        for (JsonNode n : list) {
            Message.Builder b = builder.get();
            PARSER.merge(JSON.writeValueAsString(n), b);
            out.add((T) b.build());
        }
        return out;
    }

    @Override
    public void close() {
        poller.shutdownNow();
        server.close();
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: FileControlPlane <resources.json> [port]");
            System.exit(2);
        }
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 15010;
        FileControlPlane cp = new FileControlPlane(Path.of(args[0]), port);
        System.out.println("file-control-plane: ADS on 127.0.0.1:" + cp.port() + ", watching " + args[0]);
        Runtime.getRuntime().addShutdownHook(new Thread(cp::close));
        Thread.currentThread().join();
    }
}
