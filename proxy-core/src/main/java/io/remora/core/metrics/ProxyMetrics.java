package io.remora.core.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The proxy's meters, resolved once per listener, cluster and host and then held by the objects on the request path
 * (a listener slot, a compiled cluster, an upstream connection), so recording a request never builds a tag set or
 * looks up a meter by a new key. Per-service counters go through one bounded cache keyed by the strings the codec
 * already decoded; past {@link #maxServiceLabels} distinct services the rest share the label {@code other}.
 */
public final class ProxyMetrics {

    /** Request-duration buckets (Prometheus {@code le}) from 0.25 ms to 10 s: enough resolution for a sidecar hop. */
    static final Duration[] BUCKETS = {
        Duration.ofNanos(250_000), Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofMillis(2),
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
        Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10)
    };

    public static final int DEFAULT_MAX_SERVICE_LABELS = 1000;

    private final MeterRegistry registry;
    private final int maxServiceLabels;
    private final Map<String, ListenerMetrics> listeners = new ConcurrentHashMap<>();
    private final Map<String, ClusterMetrics> clusters = new ConcurrentHashMap<>();

    public ProxyMetrics(MeterRegistry registry, int maxServiceLabels) {
        this(registry, maxServiceLabels, null);
    }

    /** {@code istio}: Istio's standard metrics beside ours, or null when they are switched off. */
    public ProxyMetrics(MeterRegistry registry, int maxServiceLabels, IstioMetrics istio) {
        this.registry = registry;
        this.maxServiceLabels = maxServiceLabels;
        this.istio = istio;
    }

    private final IstioMetrics istio;

    /** Istio's meters for listener {@code name}, or null when Istio metrics are off. */
    public IstioMetrics.Listener istio(String name, ListenerMetrics own, boolean inbound) {
        return istio == null ? null : istio.listener(name, own, inbound);
    }

    public MeterRegistry registry() {
        return registry;
    }

    int maxServiceLabels() {
        return maxServiceLabels;
    }

    public ListenerMetrics listener(String name, String protocol) {
        return listeners.computeIfAbsent(name, n -> new ListenerMetrics(this, n, protocol));
    }

    public ClusterMetrics cluster(String name) {
        return clusters.computeIfAbsent(name, n -> new ClusterMetrics(this, n));
    }

    static Timer timer(MeterRegistry registry, String name, String description, String... tags) {
        return Timer.builder(name)
                .description(description)
                .tags(tags)
                .serviceLevelObjectives(BUCKETS)
                .register(registry);
    }
}
