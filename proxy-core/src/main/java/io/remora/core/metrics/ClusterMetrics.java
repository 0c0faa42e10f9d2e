package io.remora.core.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.remora.core.protocol.ProxyError;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Upstream meters of one cluster, and of each host of it that this sidecar actually connects to. */
public final class ClusterMetrics {

    private final ProxyMetrics root;
    private final String cluster;
    private final Counter requests;
    private final Counter[] failures = new Counter[ProxyError.values().length];
    private final Timer duration;
    private final AtomicInteger pending = new AtomicInteger();
    private final Map<String, HostMetrics> hosts = new ConcurrentHashMap<>();

    ClusterMetrics(ProxyMetrics root, String cluster) {
        this.root = root;
        this.cluster = cluster;
        MeterRegistry r = root.registry();
        requests = Counter.builder("remora_upstream_requests").description("Requests sent to the cluster's hosts")
                .tag("cluster", cluster).register(r);
        for (ProxyError e : ProxyError.values()) {
            failures[e.ordinal()] = Counter.builder("remora_upstream_request_failures")
                    .description("Requests the sidecar answered itself, by cause")
                    .tags("cluster", cluster, "cause", e.name().toLowerCase(Locale.ROOT))
                    .register(r);
        }
        duration = ProxyMetrics.timer(r, "remora_upstream_request_duration",
                "Time from sending a request upstream to its response", "cluster", cluster);
        Gauge.builder("remora_upstream_pending_requests", pending, AtomicInteger::get)
                .description("Requests waiting for or in flight to the cluster's hosts").tag("cluster", cluster)
                .register(r);
    }

    public String name() {
        return cluster;
    }

    public void requestSent() {
        requests.increment();
        pending.incrementAndGet();
    }

    public void requestDone(long upstreamNanos) {
        pending.decrementAndGet();
        if (upstreamNanos >= 0) {
            duration.record(upstreamNanos, TimeUnit.NANOSECONDS);
        }
    }

    public void failure(ProxyError cause) {
        failures[cause.ordinal()].increment();
    }

    /** Distinct host labels per cluster; past it hosts count as {@code other} (original_dst clusters have many). */
    static final int MAX_HOST_LABELS = 256;

    /** The meters of one host (created the first time this sidecar connects to it). */
    public HostMetrics host(String address) {
        HostMetrics m = hosts.get(address);
        if (m != null) {
            return m;
        }
        String label = hosts.size() >= MAX_HOST_LABELS ? "other" : address;
        return hosts.computeIfAbsent(label, a -> new HostMetrics(root.registry(), cluster, a));
    }
}
