package io.remora.core.cluster;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream endpoint. Identity ({@code cluster + address}) outlives config snapshots, so health state carries over
 * when a new snapshot keeps the host; weight and labels come from the latest snapshot.
 */
public final class Host {

    /** After a failed connect, the host is skipped by load balancing for this long (unless every host is down). */
    static final long CONNECT_FAILURE_BACKOFF_NANOS = 1_000_000_000L;

    private final String cluster;
    private final String address;
    private final InetSocketAddress socketAddress;
    private volatile int weight;
    private volatile Map<String, String> labels;
    private volatile long unavailableUntilNanos;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();

    Host(String cluster, String address, InetSocketAddress socketAddress, int weight, Map<String, String> labels) {
        this.cluster = cluster;
        this.address = address;
        this.socketAddress = socketAddress;
        this.weight = weight;
        this.labels = labels;
    }

    public String cluster() {
        return cluster;
    }

    /** {@code host:port} as configured. */
    public String address() {
        return address;
    }

    public InetSocketAddress socketAddress() {
        return socketAddress;
    }

    public int weight() {
        return weight;
    }

    public Map<String, String> labels() {
        return labels;
    }

    void update(int weight, Map<String, String> labels) {
        this.weight = weight;
        this.labels = labels;
    }

    /** True unless a recent connect failure took it out of rotation. */
    public boolean available(long nowNanos) {
        return nowNanos - unavailableUntilNanos >= 0;
    }

    public void markConnectFailure(long nowNanos) {
        unavailableUntilNanos = nowNanos + CONNECT_FAILURE_BACKOFF_NANOS;
    }

    public void markConnected() {
        unavailableUntilNanos = 0;
    }

    /** Counts one finished request to this host (for the admin clusters view and outlier detection). */
    public void recordResult(boolean success) {
        requests.increment();
        if (!success) {
            failures.increment();
        }
    }

    public long requestCount() {
        return requests.sum();
    }

    public long failureCount() {
        return failures.sum();
    }

    @Override
    public String toString() {
        return cluster + "/" + address;
    }
}
