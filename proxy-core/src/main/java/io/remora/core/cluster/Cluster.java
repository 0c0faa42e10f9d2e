package io.remora.core.cluster;

import io.remora.core.metrics.ClusterMetrics;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.RpcCodec;

/**
 * A compiled cluster: its hosts, how to balance over them and the limits of its upstream connections. Immutable; a
 * config change builds a new one (hosts keep their identity through {@link HostRegistry}).
 */
public final class Cluster {

    private static final int MAX_PICK_ATTEMPTS = 3;

    private final String name;
    private final Protocol protocol;
    private final ProtocolOptions protocolOptions;
    private final String lbPolicy;
    private final LoadBalancer loadBalancer;
    private final Host[] hosts;
    private final long connectTimeoutMillis;
    private final int maxPendingRequests;
    private final long heartbeatIntervalMillis;
    private final ClusterMetrics metrics;
    private final RpcCodec codec;

    public Cluster(String name, Protocol protocol, ProtocolOptions protocolOptions, String lbPolicy, Host[] hosts,
                   long connectTimeoutMillis, int maxPendingRequests, long heartbeatIntervalMillis,
                   ClusterMetrics metrics) {
        this.name = name;
        this.protocol = protocol;
        this.protocolOptions = protocolOptions;
        this.lbPolicy = lbPolicy;
        this.loadBalancer = LoadBalancer.of(lbPolicy);
        this.hosts = hosts;
        this.connectTimeoutMillis = connectTimeoutMillis;
        this.maxPendingRequests = maxPendingRequests;
        this.heartbeatIntervalMillis = heartbeatIntervalMillis;
        this.metrics = metrics;
        this.codec = protocol == null ? null : protocol.codec(protocolOptions);
    }

    public String name() {
        return name;
    }

    /** The protocol configured for the cluster, or null to use the downstream listener's. */
    public Protocol protocol() {
        return protocol;
    }

    public ProtocolOptions protocolOptions() {
        return protocolOptions;
    }

    public String lbPolicy() {
        return lbPolicy;
    }

    public Host[] hosts() {
        return hosts;
    }

    public long connectTimeoutMillis() {
        return connectTimeoutMillis;
    }

    public int maxPendingRequests() {
        return maxPendingRequests;
    }

    public long heartbeatIntervalMillis() {
        return heartbeatIntervalMillis;
    }

    /** Pre-resolved upstream meters of this cluster. */
    public ClusterMetrics metrics() {
        return metrics;
    }

    /** The codec to speak to this cluster's hosts when the request arrived as {@code downstream}. */
    public RpcCodec codecFor(RpcCodec downstream) {
        RpcCodec c = codec;
        if (c != null) {
            return c;
        }
        return downstream;
    }

    /**
     * Picks a host, skipping ones a recent connect failure took out of rotation. Returns null only when the cluster
     * has no hosts; if every host is out of rotation it still returns one (better a try than a certain failure).
     */
    public Host choose(long nowNanos) {
        Host[] hs = hosts;
        if (hs.length == 0) {
            return null;
        }
        Host first = null;
        for (int attempt = 0; attempt < MAX_PICK_ATTEMPTS; attempt++) {
            Host h = loadBalancer.choose(hs, attempt);
            if (h.available(nowNanos)) {
                return h;
            }
            if (first == null) {
                first = h;
            }
        }
        for (Host h : hs) {
            if (h.available(nowNanos)) {
                return h;
            }
        }
        return first;
    }

    /** Set (once, before the snapshot is published) for an {@code original_dst} cluster; null for static hosts. */
    private OriginalDstHosts originalDst;

    /** Makes {@code c} an {@code original_dst} cluster: requests go to their connection's original destination. */
    public static Cluster originalDst(Cluster c, OriginalDstHosts hosts) {
        c.originalDst = hosts;
        return c;
    }

    /** True for an {@code original_dst} cluster (use {@link #originalDstHost}, not {@link #choose}). */
    public boolean isOriginalDst() {
        return originalDst != null;
    }

    /** The host for a request whose connection was made to {@code destination}; null if it has none. */
    public Host originalDstHost(java.net.InetSocketAddress destination) {
        return originalDst.host(destination);
    }
}
