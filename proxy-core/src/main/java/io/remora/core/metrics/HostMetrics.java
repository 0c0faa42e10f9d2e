package io.remora.core.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/** Connection meters of one upstream host. Only hosts this sidecar connects to get them (bounded by use). */
public final class HostMetrics {

    private final Counter opened;
    private final Counter closed;
    private final Counter abnormal;
    private final Counter connectFailures;
    private final Counter requests;

    HostMetrics(MeterRegistry r, String cluster, String host) {
        opened = Counter.builder("remora_upstream_connections_opened").description("Upstream connections opened")
                .tags("cluster", cluster, "host", host).register(r);
        closed = Counter.builder("remora_upstream_connections_closed").description("Upstream connections closed")
                .tags("cluster", cluster, "host", host).register(r);
        abnormal = Counter.builder("remora_upstream_connections_abnormal_closed")
                .description("Upstream connections that closed with requests pending")
                .tags("cluster", cluster, "host", host).register(r);
        connectFailures = Counter.builder("remora_upstream_connect_failures")
                .description("Failed connection attempts").tags("cluster", cluster, "host", host).register(r);
        requests = Counter.builder("remora_upstream_host_requests").description("Requests sent to the host")
                .tags("cluster", cluster, "host", host).register(r);
    }

    public void opened() {
        opened.increment();
    }

    public void closed(boolean withPending) {
        closed.increment();
        if (withPending) {
            abnormal.increment();
        }
    }

    public void connectFailed() {
        connectFailures.increment();
    }

    public void request() {
        requests.increment();
    }
}
