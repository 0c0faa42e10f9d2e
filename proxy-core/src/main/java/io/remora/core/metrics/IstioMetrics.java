package io.remora.core.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.prometheus.metrics.core.datapoints.DistributionDataPoint;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.remora.core.config.SidecarConfig;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Istio's standard metrics beside Remora's own, with Istio's names, labels and buckets, so Istio's dashboards and
 * alerts work unchanged: {@code istio_requests_total}, {@code istio_request_duration_milliseconds},
 * {@code istio_request_bytes}, {@code istio_response_bytes} per request, and {@code istio_tcp_*} per listener.
 * {@code reporter} is {@code source} on outbound listeners and {@code destination} on inbound ones; this sidecar's own
 * workload fills one side's labels (from the node config and the pod's environment, as istio-agent reads them), the
 * peer's app (the RPC caller or target app the protocol carries) the other, {@code unknown} the rest. Bolt and Dubbo
 * results are mapped onto {@code response_code} and Envoy's {@code response_flags} (see docs/metrics.md).
 *
 * <p>Series are resolved once per (destination service, peer app, outcome) and then held: recording a request is a
 * few map reads of strings the codec already has, no tag set built. Past {@code max_label_sets} series per listener
 * the service and peer count as {@code other}.
 */
public final class IstioMetrics {

    /** Istio's duration buckets, ms. */
    static final double[] DURATION_MS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
        300000, 600000, 1800000, 3600000};
    /** Istio's size buckets, bytes. */
    static final double[] SIZE_BYTES = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
    public static final int DEFAULT_MAX_LABEL_SETS = 1000;
    static final String UNKNOWN = "unknown";
    static final String OTHER = "other";

    /** Envoy's response flags, by index (a small int in the series key); the constants below index it. */
    static final String[] FLAGS = {"-", "NR", "UH", "UF", "UR", "UT", "UO", "RL", "UAEX", "FI", "DPE", "DC", "OM"};
    public static final int FLAG_NONE = 0;
    public static final int FLAG_NR = 1;
    public static final int FLAG_UH = 2;
    public static final int FLAG_UF = 3;
    public static final int FLAG_UR = 4;
    public static final int FLAG_UT = 5;
    public static final int FLAG_UO = 6;
    public static final int FLAG_RL = 7;
    public static final int FLAG_UAEX = 8;
    public static final int FLAG_FI = 9;
    public static final int FLAG_DPE = 10;
    public static final int FLAG_DC = 11;
    public static final int FLAG_OM = 12;

    private final MeterRegistry registry;
    private final io.prometheus.metrics.core.metrics.Counter requestCounter;
    private final Histogram durationHistogram;
    private final Histogram requestSizes;
    private final Histogram responseSizes;
    private final Workload self;
    private final int maxLabelSets;
    private final Map<String, Listener> listeners = new ConcurrentHashMap<>();

    /**
     * @param registry the sidecar's Micrometer registry (the TCP counters)
     * @param scrape the Prometheus registry its scrape reads (the request metrics)
     */
    public IstioMetrics(MeterRegistry registry, PrometheusRegistry scrape, Workload self, int maxLabelSets) {
        this.registry = registry;
        this.self = self;
        this.maxLabelSets = maxLabelSets;
        String[] labels = requestLabelNames();
        this.requestCounter = io.prometheus.metrics.core.metrics.Counter.builder().name("istio_requests")
                .help("requests handled by the proxy").withoutExemplars().labelNames(labels).register(scrape);
        this.durationHistogram = histogram(scrape, "istio_request_duration_milliseconds", "request duration, ms",
                DURATION_MS, labels);
        this.requestSizes = histogram(scrape, "istio_request_bytes", "request sizes, bytes", SIZE_BYTES, labels);
        this.responseSizes = histogram(scrape, "istio_response_bytes", "response sizes, bytes", SIZE_BYTES, labels);
        registerTcp();
    }

    private static Histogram histogram(PrometheusRegistry scrape, String name, String help, double[] bounds,
                                       String[] labels) {
        return Histogram.builder().name(name).help(help).withoutExemplars().classicOnly().classicUpperBounds(bounds)
                .labelNames(labels)
                .register(scrape);
    }

    /** This sidecar's workload as Istio labels it. */
    public record Workload(String workload, String namespace, String app, String version, String cluster,
                           String canonicalService, String canonicalRevision) {

        /**
         * From the node config and the environment: {@code node.labels} keys {@code app}, {@code version},
         * {@code workload}/{@code WORKLOAD_NAME}, {@code namespace}, {@code service.istio.io/canonical-name} /
         * {@code -revision}; {@code node.app}, {@code node.cluster}; then Istio's pod variables ({@code POD_NAMESPACE},
         * {@code ISTIO_META_WORKLOAD_NAME}, {@code ISTIO_META_CLUSTER_ID}, {@code POD_NAME}).
         */
        public static Workload from(SidecarConfig.Node node, Map<String, String> env) {
            Map<String, String> labels = node == null || node.labels() == null ? Map.of() : node.labels();
            String app = first(labels.get("app"), labels.get("app.kubernetes.io/name"), node == null ? null : node.app());
            String version = first(labels.get("version"), labels.get("app.kubernetes.io/version"));
            String workload = first(labels.get("workload"), labels.get("WORKLOAD_NAME"),
                    env.get("ISTIO_META_WORKLOAD_NAME"), podWorkload(env.get("POD_NAME")), app);
            String namespace = first(labels.get("namespace"), env.get("POD_NAMESPACE"));
            String cluster = first(node == null ? null : node.cluster(), env.get("ISTIO_META_CLUSTER_ID"));
            String canonical = first(labels.get("service.istio.io/canonical-name"), app, workload);
            String revision = first(labels.get("service.istio.io/canonical-revision"), version, "latest");
            return new Workload(nz(workload), nz(namespace), nz(app), nz(version), nz(cluster), nz(canonical),
                    revision);
        }

        /** A Deployment pod's name without its two generated suffixes ({@code reviews-v1-5d9c7-x8k2p}). */
        private static String podWorkload(String pod) {
            if (pod == null) {
                return null;
            }
            String[] parts = pod.split("-");
            return parts.length > 2 ? String.join("-", java.util.Arrays.copyOf(parts, parts.length - 2)) : pod;
        }

        private static String first(String... vs) {
            for (String v : vs) {
                if (v != null && !v.isBlank()) {
                    return v;
                }
            }
            return null;
        }

        private static String nz(String v) {
            return v == null ? UNKNOWN : v;
        }
    }

    /** The Istio meters of one listener (its TCP bytes and connections count in the per-direction totals). */
    public Listener listener(String name, ListenerMetrics own, boolean inbound) {
        return listeners.computeIfAbsent(name, n -> new Listener(own, inbound));
    }

    /** The TCP counters, one series per reporter, summed over the listeners of that direction. */
    private void registerTcp() {
        for (boolean inbound : new boolean[] {false, true}) {
            Tags t = sides(inbound, UNKNOWN).and("reporter", inbound ? "destination" : "source",
                    "request_protocol", "tcp", "destination_service", UNKNOWN, "destination_service_name", UNKNOWN,
                    "destination_service_namespace", inbound ? self.namespace : UNKNOWN, "response_flags", "-",
                    "connection_security_policy", inbound ? "none" : UNKNOWN, "source_principal", UNKNOWN,
                    "destination_principal", UNKNOWN);
            tcp("istio_tcp_connections_opened", "TCP connections opened", t, inbound, ListenerMetrics::acceptedConnections);
            tcp("istio_tcp_connections_closed", "TCP connections closed", t, inbound, ListenerMetrics::closedConnections);
            tcp("istio_tcp_received_bytes", "bytes received from the downstream", t, inbound,
                    ListenerMetrics::receivedBytes);
            tcp("istio_tcp_sent_bytes", "bytes sent to the downstream", t, inbound, ListenerMetrics::sentBytes);
        }
    }

    private void tcp(String name, String help, Tags t, boolean inbound,
                     java.util.function.ToDoubleFunction<ListenerMetrics> f) {
        FunctionCounter.builder(name, this, m -> m.sum(inbound, f)).description(help).tags(t).register(registry);
    }

    private double sum(boolean inbound, java.util.function.ToDoubleFunction<ListenerMetrics> f) {
        double total = 0;
        for (Listener l : listeners.values()) {
            if (l.inbound == inbound) {
                total += f.applyAsDouble(l.own);
            }
        }
        return total;
    }

    /** The workload labels of both sides: this sidecar on its side, {@code peer} (an app) on the other. */
    private Tags sides(boolean inbound, String peer) {
        Workload p = new Workload(UNKNOWN, UNKNOWN, peer, UNKNOWN, UNKNOWN, peer, UNKNOWN);
        Workload src = inbound ? p : self;
        Workload dst = inbound ? self : p;
        return Tags.of("source_workload", src.workload, "source_workload_namespace", src.namespace,
                "source_app", src.app, "source_version", src.version, "source_cluster", src.cluster,
                "source_canonical_service", src.canonicalService, "source_canonical_revision", src.canonicalRevision,
                "destination_workload", dst.workload, "destination_workload_namespace", dst.namespace,
                "destination_app", dst.app, "destination_version", dst.version, "destination_cluster", dst.cluster,
                "destination_canonical_service", dst.canonicalService,
                "destination_canonical_revision", dst.canonicalRevision);
    }

    /** The per-request meters of one listener: series by (protocol, service, peer, outcome). */
    public final class Listener {
        final ListenerMetrics own;
        final boolean inbound;
        private final Map<String, Map<String, Map<String, Outcomes>>> byProtocol = new ConcurrentHashMap<>();
        private final AtomicInteger labelSets = new AtomicInteger();

        Listener(ListenerMetrics own, boolean inbound) {
            this.own = own;
            this.inbound = inbound;
        }

        /**
         * One finished request.
         *
         * @param protocol Istio's {@code request_protocol} ({@code http}, {@code grpc}, or the RPC protocol's name)
         * @param service the destination service (HTTP host, RPC service), or null
         * @param peerApp the caller's app (inbound) or the target's app (outbound), or null
         * @param code the HTTP-style response code; {@code grpc} the gRPC status or -1; {@code flag} an index of
         *             {@link #FLAGS}
         */
        public void request(String protocol, String service, String peerApp, int code, int grpc, int flag,
                            long requestBytes, long responseBytes, long durationNanos) {
            Series s = outcomes(protocol, service == null ? UNKNOWN : service, peerApp == null ? UNKNOWN : peerApp)
                    .get(code, grpc, flag);
            s.requests.inc();
            s.duration.observe(durationNanos / 1_000_000.0);
            s.requestBytes.observe(requestBytes);
            s.responseBytes.observe(responseBytes);
        }

        private Outcomes outcomes(String protocol, String service, String peer) {
            Map<String, Map<String, Outcomes>> bySvc = byProtocol.get(protocol);
            Map<String, Outcomes> byPeer = bySvc == null ? null : bySvc.get(service);
            Outcomes o = byPeer == null ? null : byPeer.get(peer);
            return o != null ? o : slowOutcomes(protocol, service, peer);
        }

        private Outcomes slowOutcomes(String protocol, String service, String peer) {
            if (labelSets.get() >= maxLabelSets) {
                service = OTHER; // bounded cardinality: past the cap, one series set for the rest
                peer = OTHER;
            }
            String svc = service;
            String p = peer;
            return byProtocol.computeIfAbsent(protocol, k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(svc, k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(p, k -> {
                        labelSets.incrementAndGet();
                        return new Outcomes(inbound, protocol, svc, p);
                    });
        }
    }

    /** The series of one (direction, protocol, service, peer), by outcome; reads lock-free, copy on insert. */
    private final class Outcomes {
        final Tags base;
        private volatile int[] keys = new int[0];
        private volatile Series[] series = new Series[0];

        Outcomes(boolean inbound, String protocol, String service, String peer) {
            String shortName = service.indexOf('.') > 0 && !service.contains(":")
                    ? service.substring(0, service.indexOf('.')) : service;
            this.base = sides(inbound, peer).and("reporter", inbound ? "destination" : "source",
                    "request_protocol", protocol, "destination_service", service,
                    "destination_service_name", shortName,
                    "destination_service_namespace", inbound ? self.namespace : UNKNOWN,
                    "connection_security_policy", inbound ? "none" : UNKNOWN, "source_principal", UNKNOWN,
                    "destination_principal", UNKNOWN);
        }

        Series get(int code, int grpc, int flag) {
            int key = (Math.max(0, Math.min(code, 999)) << 10) | ((Math.max(-1, Math.min(grpc, 30)) + 1) << 5)
                    | (flag & 31);
            int[] k = keys;
            for (int i = 0; i < k.length; i++) {
                if (k[i] == key) {
                    return series[i];
                }
            }
            return add(key, code, grpc, flag);
        }

        private synchronized Series add(int key, int code, int grpc, int flag) {
            int[] k = keys;
            for (int i = 0; i < k.length; i++) {
                if (k[i] == key) {
                    return series[i];
                }
            }
            Tags t = base.and("response_code", Integer.toString(code),
                    "grpc_response_status", grpc < 0 ? "" : Integer.toString(grpc),
                    "response_flags", FLAGS[flag < FLAGS.length ? flag : 0]);
            Series s = new Series(t);
            int[] nk = java.util.Arrays.copyOf(k, k.length + 1);
            Series[] ns = java.util.Arrays.copyOf(series, k.length + 1);
            nk[k.length] = key;
            ns[k.length] = s;
            series = ns; // published before keys: a reader that sees the key finds its series
            keys = nk;
            return s;
        }
    }

    /**
     * The four meters of one label set. Istio's histograms are Prometheus client histograms registered straight into
     * the scrape registry (Micrometer's would add a {@code _max} series Istio does not have), without exemplars (no
     * per-observation sampling); their data points are resolved once here, so recording does no label lookup.
     */
    private final class Series {
        final CounterDataPoint requests;
        final DistributionDataPoint duration;
        final DistributionDataPoint requestBytes;
        final DistributionDataPoint responseBytes;

        Series(Tags t) {
            String[] values = t.stream().map(Tag::getValue).toArray(String[]::new);
            requests = requestCounter.labelValues(values);
            duration = durationHistogram.labelValues(values);
            requestBytes = requestSizes.labelValues(values);
            responseBytes = responseSizes.labelValues(values);
        }
    }

    /** The label names of every request series (Tags sort by key, so every series lists them in this order). */
    private static String[] requestLabelNames() {
        Tags t = Tags.of("reporter", "", "request_protocol", "", "destination_service", "",
                "destination_service_name", "", "destination_service_namespace", "", "connection_security_policy", "",
                "source_principal", "", "destination_principal", "", "response_code", "", "grpc_response_status", "",
                "response_flags", "").and(SIDE_KEYS.stream().map(k -> Tag.of(k, "")).toList());
        return t.stream().map(Tag::getKey).toArray(String[]::new);
    }

    private static final java.util.List<String> SIDE_KEYS = java.util.List.of("source_workload",
            "source_workload_namespace", "source_app", "source_version", "source_cluster", "source_canonical_service",
            "source_canonical_revision", "destination_workload", "destination_workload_namespace", "destination_app",
            "destination_version", "destination_cluster", "destination_canonical_service",
            "destination_canonical_revision");
}
