package io.remora.core.cluster;

import io.remora.core.metrics.ClusterMetrics;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.tls.TlsContext;

/**
 * A compiled cluster: its hosts, how to balance over them and the limits of its upstream connections. Immutable; a
 * config change builds a new one (hosts keep their identity through {@link HostRegistry}).
 */
public final class Cluster {

    /** Below this share of healthy hosts (percent), balance over all hosts (Envoy's default). */
    public static final int DEFAULT_PANIC_PERCENT = 50;

    private final String name;
    private final Protocol protocol;
    private final ProtocolOptions protocolOptions;
    private final String lbPolicy;
    private final HostSet all;
    private final Host[] hosts;
    private final int panicPercent;
    private final HealthCheckPolicy healthCheck;
    private final OutlierPolicy outlier;
    private final long connectTimeoutMillis;
    private final int maxPendingRequests;
    private final long heartbeatIntervalMillis;
    private final ClusterMetrics metrics;
    private final RpcCodec codec;

    public Cluster(String name, Protocol protocol, ProtocolOptions protocolOptions, String lbPolicy, Host[] hosts,
                   long connectTimeoutMillis, int maxPendingRequests, long heartbeatIntervalMillis,
                   ClusterMetrics metrics) {
        this(name, protocol, protocolOptions, lbPolicy, hosts, connectTimeoutMillis, maxPendingRequests,
                heartbeatIntervalMillis, metrics, DEFAULT_PANIC_PERCENT, null, null);
    }

    /**
     * @param panicPercent below this share of healthy hosts, balance over all hosts (0 = never panic)
     * @param healthCheck active health checks, or null for none
     * @param outlier fault isolation, or null for none
     */
    public Cluster(String name, Protocol protocol, ProtocolOptions protocolOptions, String lbPolicy, Host[] hosts,
                   long connectTimeoutMillis, int maxPendingRequests, long heartbeatIntervalMillis,
                   ClusterMetrics metrics, int panicPercent, HealthCheckPolicy healthCheck, OutlierPolicy outlier) {
        this.name = name;
        this.protocol = protocol;
        this.protocolOptions = protocolOptions;
        this.lbPolicy = lbPolicy;
        this.hosts = hosts;
        this.panicPercent = panicPercent;
        this.healthCheck = healthCheck;
        this.outlier = outlier;
        this.all = new HostSet(hosts, lbPolicy, hosts.length == 0 ? new HealthEpoch() : hosts[0].epoch(),
                panicPercent);
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

    public int panicPercent() {
        return panicPercent;
    }

    /** Active health checks, or null. */
    public HealthCheckPolicy healthCheck() {
        return healthCheck;
    }

    /** Fault isolation, or null. */
    public OutlierPolicy outlier() {
        return outlier;
    }

    /** Every host of the cluster as one balancing set. */
    public HostSet hostSet() {
        return all;
    }

    /**
     * A balancing set over {@code subset} (hosts of this cluster) with this cluster's policy and panic threshold. Build
     * it once per snapshot (label routing does), not per request.
     */
    public HostSet subset(Host[] subset) {
        if (subset.length == 0) {
            return HostSet.EMPTY;
        }
        return new HostSet(subset, lbPolicy, subset[0].epoch(), panicPercent);
    }

    /** Picks a healthy host of the whole cluster (see {@link HostSet#choose(long)}); null when it has no hosts. */
    public Host choose(long nowNanos) {
        return all.choose(nowNanos);
    }

    /** TLS to the hosts, or null (plaintext). Set once, before the snapshot is published. */
    private TlsContext tls;

    /** Gives {@code c} TLS to its hosts (see {@link io.remora.core.tls.TransportSockets}). */
    public static Cluster withTls(Cluster c, TlsContext tls) {
        c.tls = tls;
        return c;
    }

    /** TLS to the hosts, or null. */
    public TlsContext tls() {
        return tls;
    }

    /** Set (once, before the snapshot is published) for an {@code original_dst} cluster; null for static hosts. */
    private OriginalDstHosts originalDst;

    /** Makes {@code c} an {@code original_dst} cluster: requests go to their connection's original destination. */
    /** Default {@code max_queued_bytes}: two frames of the largest default size. */
    public static final long DEFAULT_MAX_QUEUED_BYTES = 32L << 20;

    private long maxQueuedBytes = DEFAULT_MAX_QUEUED_BYTES;

    /** Sets the bound on bytes queued for one upstream connection (at compile time, before the cluster is shared). */
    public Cluster maxQueuedBytes(long bytes) {
        this.maxQueuedBytes = bytes;
        return this;
    }

    /** Bytes written to one upstream connection and not yet taken by the provider, past which requests overflow. */
    public long maxQueuedBytes() {
        return maxQueuedBytes;
    }

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
