package io.remora.core.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.remora.core.protocol.ResponseClass;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Downstream meters of one listener. */
public final class ListenerMetrics {

    static final String OTHER = "other";
    private static final ResponseClass[] RESULTS = ResponseClass.values();

    private final ProxyMetrics root;
    private final String listener;
    private final String protocol;
    private final AtomicInteger active = new AtomicInteger();
    private final Counter connections;
    private final Counter bytesReceived;
    private final Counter bytesSent;
    private final Counter noFilterChain;
    private final Timer duration;
    /** service -> method -> counters by result. */
    private final Map<String, Map<String, Counter[]>> byService = new ConcurrentHashMap<>();
    private final Map<String, Counter> refused = new ConcurrentHashMap<>();
    private final Counter malformed;
    private final AtomicInteger serviceLabels = new AtomicInteger();

    ListenerMetrics(ProxyMetrics root, String listener, String protocol) {
        this.root = root;
        this.listener = listener;
        this.protocol = protocol;
        MeterRegistry r = root.registry();
        Gauge.builder("remora_downstream_connections_active", active, AtomicInteger::get)
                .description("Open downstream connections").tag("listener", listener).register(r);
        connections = Counter.builder("remora_downstream_connections").description("Accepted downstream connections")
                .tag("listener", listener).register(r);
        bytesReceived = Counter.builder("remora_downstream_received").baseUnit("bytes")
                .description("Request bytes received from callers").tag("listener", listener).register(r);
        bytesSent = Counter.builder("remora_downstream_sent").baseUnit("bytes")
                .description("Response bytes sent to callers").tag("listener", listener).register(r);
        noFilterChain = Counter.builder("remora_downstream_no_filter_chain_match")
                .description("Connections closed because no filter chain (and no default chain) matched them")
                .tag("listener", listener).register(r);
        requestRefused("max_requests_per_connection", 0); // exists from the start: dashboards and alerts see a 0
        malformed = Counter.builder("remora_downstream_malformed_frames")
                .description("downstream connections closed on a malformed frame (bad magic or header, declared "
                        + "length over max_frame_bytes, bad CRC)").tag("listener", listener).register(r);
        duration = ProxyMetrics.timer(r, "remora_downstream_request_duration",
                "Time from a request's decode to its answer", "listener", listener, "protocol", protocol);
    }

    /** A request the sidecar refused at a protocol limit before it became a request ({@code limit} names which). */
    public void requestRefused(String limit) {
        requestRefused(limit, 1);
    }

    private void requestRefused(String limit, int n) {
        Counter c = refused.get(limit);
        if (c == null) {
            c = refused.computeIfAbsent(limit, l -> Counter.builder("remora_downstream_requests_refused")
                    .description("requests refused at a per-connection limit, by limit").tag("listener", listener)
                    .tag("limit", l).register(root.registry()));
        }
        c.increment(n);
    }

    /** A downstream connection closed because its bytes could not be framed. */
    public void malformedFrame() {
        malformed.increment();
    }

    public void connectionOpened() {
        active.incrementAndGet();
        connections.increment();
    }

    /** A live connection handed over by the previous process on upgrade: active, but not a new accept. */
    public void connectionAdopted() {
        active.incrementAndGet();
    }

    public void connectionClosed() {
        active.decrementAndGet();
        closed.increment();
    }

    private final java.util.concurrent.atomic.LongAdder closed = new java.util.concurrent.atomic.LongAdder();

    double acceptedConnections() {
        return connections.count();
    }

    double closedConnections() {
        return closed.sum();
    }

    double receivedBytes() {
        return bytesReceived.count();
    }

    double sentBytes() {
        return bytesSent.count();
    }

    /** Records one finished request. {@code service}/{@code method} are the codec's strings (may be null). */
    public void request(String service, String method, ResponseClass result, int requestBytes, int responseBytes,
                        long durationNanos) {
        counters(service, method)[result.ordinal()].increment();
        bytesReceived.increment(requestBytes);
        if (responseBytes > 0) {
            bytesSent.increment(responseBytes);
        }
        duration.record(durationNanos, TimeUnit.NANOSECONDS);
    }

    /** A connection no filter chain of this listener matched (closed; Envoy's {@code no_filter_chain_match}). */
    public void noFilterChainMatch() {
        noFilterChain.increment();
    }

    /** Bytes moved on a connection that has no requests (an opaque TCP proxy): counted as they flow. */
    public void bytes(long received, long sent) {
        if (received > 0) {
            bytesReceived.increment(received);
        }
        if (sent > 0) {
            bytesSent.increment(sent);
        }
    }

    /** One finished opaque connection (a TCP proxy session): counted by result, timed; its bytes counted already. */
    public void session(String service, ResponseClass result, long durationNanos) {
        counters(service, null)[result.ordinal()].increment();
        duration.record(durationNanos, TimeUnit.NANOSECONDS);
    }

    private Counter[] counters(String service, String method) {
        String s = service == null ? "-" : service;
        String m = method == null ? "-" : method;
        Map<String, Counter[]> methods = byService.get(s);
        if (methods != null) {
            Counter[] c = methods.get(m);
            if (c != null) {
                return c;
            }
        }
        return slowCounters(s, m);
    }

    private Counter[] slowCounters(String s, String m) {
        Map<String, Counter[]> methods = byService.get(s);
        if (methods == null) {
            if (serviceLabels.get() >= root.maxServiceLabels()) {
                s = OTHER;
                m = OTHER;
            }
            methods = byService.computeIfAbsent(s, k -> {
                serviceLabels.incrementAndGet();
                return new ConcurrentHashMap<>();
            });
        } else if (methods.size() >= root.maxServiceLabels()) {
            m = OTHER;
        }
        String service = s;
        return methods.computeIfAbsent(m, method -> {
            Counter[] cs = new Counter[RESULTS.length];
            for (ResponseClass rc : RESULTS) {
                cs[rc.ordinal()] = Counter.builder("remora_downstream_requests")
                        .description("Requests by service, method and result (00 ok, 01 business error, "
                                + "02 rpc error, 03 timeout, 04 routing failure)")
                        .tags("listener", listener, "protocol", protocol, "service", service, "method", method,
                                "result", rc.name().toLowerCase(java.util.Locale.ROOT))
                        .register(root.registry());
            }
            return cs;
        });
    }
}
