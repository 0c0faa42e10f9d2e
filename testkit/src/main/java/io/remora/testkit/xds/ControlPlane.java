package io.remora.testkit.xds;

import io.envoyproxy.controlplane.cache.v3.SimpleCache;
import io.envoyproxy.controlplane.cache.v3.Snapshot;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.V3DiscoveryServer;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real xDS control plane for tests and examples: java-control-plane's {@link V3DiscoveryServer} over a
 * {@link SimpleCache} (one group for every node), on a gRPC Netty server bound to 127.0.0.1. It records every request
 * it receives (ACKs, NACKs with their error_detail) so tests can assert on what the sidecar said. The runnable file-fed
 * control plane built on a copy of it is io.remora.examples.xds.FileControlPlane (examples module).
 */
public final class ControlPlane implements AutoCloseable {

    public static final String GROUP = "remora";

    private final SimpleCache<String> cache = new SimpleCache<>(node -> GROUP);
    private final List<DiscoveryRequest> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger streams = new AtomicInteger();
    private final Server server;

    /** Starts on {@code port} (0 = any free port). */
    public ControlPlane(int port) throws IOException {
        V3DiscoveryServer xds = new V3DiscoveryServer(new DiscoveryServerCallbacks() {
            @Override
            public void onStreamOpen(long streamId, String typeUrl) {
                streams.incrementAndGet();
            }

            @Override
            public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
                requests.add(request);
            }

            @Override
            public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request) {
            }
        }, cache);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
                .addService(xds.getAggregatedDiscoveryServiceImpl())
                .build().start();
    }

    public int port() {
        return server.getPort();
    }

    /** Publishes {@code snapshot}; open watches are answered at once. */
    public void push(Snapshot snapshot) {
        cache.setSnapshot(GROUP, snapshot);
    }

    /** Every DiscoveryRequest received so far, in order. */
    public List<DiscoveryRequest> requests() {
        return List.copyOf(requests);
    }

    public int streamsOpened() {
        return streams.get();
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
