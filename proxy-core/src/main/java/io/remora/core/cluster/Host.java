package io.remora.core.cluster;

import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * One upstream endpoint. Identity ({@code cluster + address}) outlives config snapshots, so health state carries over
 * when a new snapshot keeps the host; weight and labels come from the latest snapshot.
 *
 * <p>Health has two sticky flags set off the request path (active health check, outlier ejection); each change bumps
 * the cluster's {@link HealthEpoch} so every {@link HostSet} rebuilds its healthy view once. A connect failure is a
 * short time-based backoff checked per pick.
 */
public final class Host {

    /** After a failed connect, the host is skipped by load balancing for this long (unless every host is down). */
    static final long CONNECT_FAILURE_BACKOFF_NANOS = 1_000_000_000L;

    private final String cluster;
    private final String address;
    private final InetSocketAddress socketAddress;
    private final HealthEpoch epoch;
    private volatile int weight;
    private volatile Map<String, String> labels;
    private volatile long unavailableUntilNanos;
    private final LongAdder requests = new LongAdder();
    private final LongAdder failures = new LongAdder();
    /** Requests sent and not yet finished (least-request balancing). */
    private final AtomicInteger active = new AtomicInteger();
    private volatile boolean failedHealthCheck;
    private volatile boolean ejected;
    /** Set only by the outlier detector's thread. */
    long ejectedUntilNanos;
    int ejections;
    /** Created on first use, only for clusters with outlier detection. */
    private volatile OutlierWindow window;

    Host(String cluster, String address, InetSocketAddress socketAddress, int weight, Map<String, String> labels,
         HealthEpoch epoch) {
        this.cluster = cluster;
        this.address = address;
        this.socketAddress = socketAddress;
        this.weight = weight;
        this.labels = labels;
        this.epoch = epoch;
    }

    /** A standalone host (tests, benchmarks). */
    public static Host of(String cluster, String address, int weight, Map<String, String> labels) {
        int colon = address.lastIndexOf(':');
        InetSocketAddress sa = InetSocketAddress.createUnresolved(address.substring(0, colon),
                Integer.parseInt(address.substring(colon + 1)));
        return new Host(cluster, address, sa, weight, labels, new HealthEpoch());
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

    HealthEpoch epoch() {
        return epoch;
    }

    void update(int weight, Map<String, String> labels) {
        boolean changed = this.weight != weight;
        this.weight = weight;
        this.labels = labels;
        if (changed) {
            epoch.bump();
        }
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

    /** Healthy = passes active health checks (or has none) and is not ejected as an outlier. */
    public boolean healthy() {
        return !failedHealthCheck && !ejected;
    }

    public boolean failedHealthCheck() {
        return failedHealthCheck;
    }

    public boolean ejected() {
        return ejected;
    }

    public void setFailedHealthCheck(boolean failed) {
        if (failedHealthCheck != failed) {
            failedHealthCheck = failed;
            epoch.bump();
        }
    }

    void setEjected(boolean e) {
        if (ejected != e) {
            ejected = e;
            epoch.bump();
        }
    }

    /** Number of times the outlier detector has isolated this host. */
    public int ejections() {
        return ejections;
    }

    public int activeRequests() {
        return active.get();
    }

    public void requestStarted() {
        active.incrementAndGet();
    }

    public void requestEnded() {
        active.decrementAndGet();
    }

    /** Counts one finished request to this host (for the admin clusters view and outlier detection). */
    public void recordResult(boolean success) {
        requests.increment();
        if (!success) {
            failures.increment();
        }
    }

    /** Records one outcome into the outlier window (clusters with outlier detection). */
    public void recordOutcome(boolean success, long nowNanos) {
        OutlierWindow w = window;
        if (w == null) {
            synchronized (this) {
                w = window;
                if (w == null) {
                    w = new OutlierWindow();
                    window = w;
                }
            }
        }
        w.record(success, nowNanos);
    }

    /** Forgets the outlier window (a host back from isolation starts clean). */
    void resetWindow() {
        window = null;
    }

    /** The outlier window, or null if nothing was recorded yet. */
    OutlierWindow window() {
        return window;
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
