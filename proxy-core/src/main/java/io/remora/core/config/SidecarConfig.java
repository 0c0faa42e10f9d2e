package io.remora.core.config;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;

/**
 * The whole configuration, as read from JSON (snake_case field names). One model for every source: the static file,
 * the admin API and xDS all produce one of these; {@link ConfigCompiler} turns it into a {@link ConfigSnapshot}.
 * Absent optional fields are null here and get their defaults in the compiler.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record SidecarConfig(
        Node node,
        Integer workerThreads,
        Admin admin,
        Log log,
        List<Listener> listeners,
        List<RouteConfig> routeConfigs,
        List<Cluster> clusters,
        /** Free-form sections owned by plugins (e.g. governance rules), keyed by plugin name. */
        Map<String, JsonNode> extensions,
        Metrics metrics,
        /** What callers can make the sidecar hold (connections, accept rate, requests per connection); read at start. */
        Limits limits,
        /** Memory thresholds past which the sidecar stops accepting and sheds new requests; read at start. */
        Overload overload) {

    /** The config without {@code limits} and {@code overload} (kept for code that builds configs positionally). */
    public SidecarConfig(Node node, Integer workerThreads, Admin admin, Log log, List<Listener> listeners,
                         List<RouteConfig> routeConfigs, List<Cluster> clusters, Map<String, JsonNode> extensions,
                         Metrics metrics) {
        this(node, workerThreads, admin, log, listeners, routeConfigs, clusters, extensions, metrics, null, null);
    }

    /** The config without a {@code metrics} section (kept for code that builds configs positionally). */
    public SidecarConfig(Node node, Integer workerThreads, Admin admin, Log log, List<Listener> listeners,
                         List<RouteConfig> routeConfigs, List<Cluster> clusters, Map<String, JsonNode> extensions) {
        this(node, workerThreads, admin, log, listeners, routeConfigs, clusters, extensions, null);
    }

    /** This config with {@code extensions} replaced. */
    public SidecarConfig withExtensions(Map<String, JsonNode> newExtensions) {
        return new SidecarConfig(node, workerThreads, admin, log, listeners, routeConfigs, clusters, newExtensions,
                metrics, limits, overload);
    }

    /**
     * Process-wide limits (docs/limits.md); absent fields take safe defaults: {@code max_connections} 32768 across
     * listeners, {@code max_connections_per_listener} the same, {@code accept_per_second} 10000 per listener (0 =
     * unlimited), {@code max_requests_per_connection} 10000 in flight on one downstream connection.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Limits(Integer maxConnections, Integer maxConnectionsPerListener, Integer acceptPerSecond,
                         Integer maxRequestsPerConnection) {
    }

    /**
     * The overload manager (docs/limits.md): {@code heap_percent} of the heap limit live after GC (default 95),
     * {@code direct_percent} of the direct memory limit (default 95), sampled every {@code check_interval_ms} (250);
     * {@code stop_accepting} (default false): also stop accepting connections while overloaded.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Overload(Double heapPercent, Double directPercent, Long checkIntervalMs, Boolean stopAccepting) {

        /** Without {@code stop_accepting} (kept for code that builds configs positionally). */
        public Overload(Double heapPercent, Double directPercent, Long checkIntervalMs) {
            this(heapPercent, directPercent, checkIntervalMs, null);
        }
    }

    /**
     * Metrics: {@code port} opens a dedicated Prometheus scrape port serving {@code /metrics} (off unless set; the admin
     * port always serves {@code /metrics} too); {@code max_service_labels} caps distinct service/method label values per
     * listener (the rest count as {@code other}); {@code digest_queue} bounds the digest log's buffer; {@code istio}
     * switches Istio's standard metrics ({@code istio_requests_total}, ...) on or off, {@code istio_max_label_sets}
     * bounds their series per listener.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Metrics(String address, Integer port, Integer maxServiceLabels, Integer digestQueue,
                          /** Istio's standard metrics beside Remora's (default true). */
                          Boolean istio,
                          /** Bound on Istio request series per listener (default 1000; the rest count as other). */
                          Integer istioMaxLabelSets) {

        /** Without the Istio switches (kept for code that builds configs positionally). */
        public Metrics(String address, Integer port, Integer maxServiceLabels, Integer digestQueue) {
            this(address, port, maxServiceLabels, digestQueue, null, null);
        }
    }

    /** Who this sidecar is. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Node(String id, String app, String cluster, Map<String, String> labels) {
    }

    /**
     * The admin API. Loopback TCP unless configured otherwise; {@code unix_socket} also serves it on a Unix domain
     * socket, and then no TCP port is bound unless {@code port} is set above 0. {@code token}, when set, is required as
     * {@code Authorization: Bearer <token>} on every mutating request (and on reads with
     * {@code token_required_for_reads}). Read once at start: a later config cannot loosen admin access.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Admin(String address, Integer port, String unixSocket, String unixSocketMode, String token,
                        Boolean tokenRequiredForReads) {

        /** TCP only, no token (kept for code that builds configs positionally). */
        public Admin(String address, Integer port) {
            this(address, port, null, null, null, null);
        }
    }

    /** Logging: directory of the log files and the initial level of default.log. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Log(String dir, String level, Map<String, String> levels) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Listener(
            String name,
            /** {@code host:port} */
            String address,
            /** A protocol plugin name, or {@code auto} to detect from the first bytes. */
            String protocol,
            /** {@code outbound} (client side, default) or {@code inbound} (server side). */
            String direction,
            /** Name of a route config in {@code route_configs}. Exactly one of this and {@code routes}. */
            String routeConfig,
            /** Inline routes. */
            List<Route> routes,
            List<Filter> filters,
            Integer maxFrameBytes,
            Long idleTimeoutMs,
            Map<String, String> options,
            /**
             * Interception mode (epoll only): the listening socket is {@code IP_TRANSPARENT}, so TPROXY can hand it
             * connections for any address; routes see the original destination. Default false.
             */
            Boolean transparent,
            /**
             * Several filter chains, each with its own match, protocol, routes and filters; one is chosen once per
             * connection (see docs/routing.md). Exclusive with the single-chain fields {@code protocol},
             * {@code routes}/{@code route_config}, {@code filters}, {@code max_frame_bytes}, {@code options}, {@code tls}.
             */
            List<FilterChain> filterChains,
            /** The chain for connections no chain of {@code filter_chains} matches (none: such connections close). */
            FilterChain defaultFilterChain,
            /**
             * Hand each accepted connection to the listener whose address is the connection's original destination
             * (exact {@code ip:port}, else {@code 0.0.0.0:port}), as Envoy's {@code use_original_dst}; this listener's
             * own chains serve it when there is none.
             */
            Boolean useOriginalDst,
            /** False: no socket is bound; reachable only through a {@code use_original_dst} listener. Default true. */
            Boolean bindToPort,
            /**
             * How long to wait for the first bytes when a chain matches on TLS or ALPN/HTTP (server-first protocols
             * send nothing); then the chain is chosen as raw_buffer without ALPN. Default 1000.
             */
            Long inspectTimeoutMs,
            /** Terminate TLS on this listener (single-chain form). */
            Tls tls) {

        /** A non-transparent listener (kept for code that builds configs positionally). */
        public Listener(String name, String address, String protocol, String direction, String routeConfig,
                        List<Route> routes, List<Filter> filters, Integer maxFrameBytes, Long idleTimeoutMs,
                        Map<String, String> options) {
            this(name, address, protocol, direction, routeConfig, routes, filters, maxFrameBytes, idleTimeoutMs,
                    options, null);
        }

        /** A single-chain listener (kept for code that builds configs positionally). */
        public Listener(String name, String address, String protocol, String direction, String routeConfig,
                        List<Route> routes, List<Filter> filters, Integer maxFrameBytes, Long idleTimeoutMs,
                        Map<String, String> options, Boolean transparent) {
            this(name, address, protocol, direction, routeConfig, routes, filters, maxFrameBytes, idleTimeoutMs,
                    options, transparent, null, null, null, null, null, null);
        }

        /** True when this listener uses {@code filter_chains} / {@code default_filter_chain}. */
        public boolean chained() {
            return filterChains != null || defaultFilterChain != null;
        }
    }

    /**
     * One filter chain of a listener: when it applies ({@code match}, all given criteria must hold; the most specific
     * chain wins, criterion by criterion in Envoy's order) and what serves the connection then.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FilterChain(String name, FilterChainMatch match, String protocol, String routeConfig,
                              List<Route> routes, List<Filter> filters, Integer maxFrameBytes,
                              /** Idle close of connections on this chain; default the listener's. */
                              Long idleTimeoutMs, Map<String, String> options, Tls tls) {
    }

    /**
     * Envoy's {@code filter_chain_match} subset: {@code destination_port} (the original destination's port),
     * {@code prefix_ranges} (CIDRs of the original destination's IP), {@code server_names} (TLS SNI, exact or
     * {@code *.suffix}), {@code transport_protocol} ({@code tls} or {@code raw_buffer}) and
     * {@code application_protocols} (ALPN of a TLS ClientHello, or {@code http/1.1} / {@code h2c} detected on
     * plaintext).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record FilterChainMatch(Integer destinationPort, List<String> prefixRanges, List<String> serverNames,
                                   String transportProtocol, List<String> applicationProtocols) {
    }

    /**
     * TLS of a listener / filter chain (server side: terminate) or of a cluster (client side: originate). The
     * certificate is {@code cert_file} + {@code key_file} (PEM) or the SDS secret {@code cert_secret}; the trusted CA
     * is {@code ca_file} or the SDS secret {@code ca_secret} (server side: needed to verify client certificates;
     * client side: without one, the system's default trust store). Client side: {@code sni}, {@code alpn},
     * {@code subject_alt_names} (the peer certificate must carry one of them as a URI or DNS SAN), and
     * {@code host_labels} (TLS only to hosts whose labels include all of these, e.g. Istio's {@code tlsMode: istio};
     * the others are called in plaintext). Server side: {@code require_client_certificate} (mTLS), {@code alpn}.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Tls(String certFile, String keyFile, String caFile, String certSecret, String caSecret, String sni,
                      List<String> alpn, Boolean requireClientCertificate, List<String> subjectAltNames,
                      Map<String, String> hostLabels) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Filter(String type, JsonNode config) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RouteConfig(String name, List<Route> routes) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Route(
            String name,
            RouteMatch match,
            /** Target cluster. Exactly one of this and {@code weighted_clusters}. */
            String cluster,
            List<WeightedCluster> weightedClusters,
            /** Used when the request carries no timeout of its own; covers every retry. */
            Long timeoutMs,
            /** Retries of this route; none when absent. */
            RetryPolicy retryPolicy) {

        /** A route without retries (kept for code that builds routes positionally). */
        public Route(String name, RouteMatch match, String cluster, List<WeightedCluster> weightedClusters,
                     Long timeoutMs) {
            this(name, match, cluster, weightedClusters, timeoutMs, null);
        }
    }

    /**
     * {@code retry_on}: any of {@code connect_failure} (also overflow; the request never left), {@code reset},
     * {@code timeout} (needs {@code per_try_timeout_ms}), {@code retriable_status} (an error response).
     * Only connect failures are retried unless {@code idempotent} is true: the others may have reached the provider.
     * Backoff before retry n (1-based): random in [0, min(max, base x 2^(n-1))] (full jitter).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RetryPolicy(Integer numRetries, List<String> retryOn, Boolean idempotent, Long perTryTimeoutMs,
                              Long backoffBaseMs, Long backoffMaxMs) {
    }

    /**
     * All given parts must match. {@code service} absent or {@code "*"} matches any service. For HTTP, the service is
     * the host (authority without port) and the method the HTTP method; at most one of {@code path} (exact),
     * {@code prefix} and {@code path_regex} matches the request path without its query string. {@code destination}
     * matches the address the downstream connection was made to (the original destination on a transparent
     * listener): {@code "ip:port"}, {@code "cidr"} (any port), {@code "cidr:port"} or {@code ":port"} (any address).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record RouteMatch(String service, String method, List<HeaderMatch> headers, String path, String prefix,
                             String pathRegex, String destination) {

        /** A match without path conditions (kept for code that builds configs positionally). */
        public RouteMatch(String service, String method, List<HeaderMatch> headers) {
            this(service, method, headers, null, null, null, null);
        }

        /** A match without a destination condition (kept for code that builds configs positionally). */
        public RouteMatch(String service, String method, List<HeaderMatch> headers, String path, String prefix,
                          String pathRegex) {
            this(service, method, headers, path, prefix, pathRegex, null);
        }
    }

    /** Exactly one of {@code exact}, {@code regex}, {@code present}. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HeaderMatch(String name, String exact, String regex, Boolean present) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record WeightedCluster(String cluster, Integer weight) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Cluster(
            String name,
            /** Protocol spoken to the hosts; defaults to the protocol of the listener the request came in on. */
            String protocol,
            /** {@code round_robin} (default), {@code random}, {@code weighted} */
            String lbPolicy,
            Long connectTimeoutMs,
            /** Bound on requests waiting for or in flight on one upstream connection. */
            Integer maxPendingRequests,
            /** Idle time after which the sidecar sends its own heartbeat on an upstream connection; 0 = never. */
            Long heartbeatIntervalMs,
            Integer maxFrameBytes,
            List<Host> hosts,
            /** Active health checks; none when absent. */
            HealthCheck healthCheck,
            /** Fault isolation (outlier ejection); none when absent. */
            OutlierDetection outlierDetection,
            /** Below this percentage of healthy hosts, balance over all hosts; default 50, 0 = never. */
            Integer panicThresholdPercent,
            /**
             * {@code static} (default: the listed hosts) or {@code original_dst}: no hosts, every request goes to its
             * connection's original destination (passthrough on a transparent listener).
             */
            String type,
            /** Originate TLS to the hosts (see {@link Tls}); plaintext when absent. */
            Tls tls,
            /**
             * Bytes written to one upstream connection that its provider has not taken yet; past it, new requests to
             * that connection get the overflow error (a provider that stops reading must not fill the sidecar's memory).
             */
            Long maxQueuedBytes) {

        /** Without {@code max_queued_bytes} (kept for code that builds clusters positionally). */
        public Cluster(String name, String protocol, String lbPolicy, Long connectTimeoutMs,
                       Integer maxPendingRequests, Long heartbeatIntervalMs, Integer maxFrameBytes, List<Host> hosts,
                       HealthCheck healthCheck, OutlierDetection outlierDetection, Integer panicThresholdPercent,
                       String type, Tls tls) {
            this(name, protocol, lbPolicy, connectTimeoutMs, maxPendingRequests, heartbeatIntervalMs, maxFrameBytes,
                    hosts, healthCheck, outlierDetection, panicThresholdPercent, type, tls, null);
        }

        /** A cluster without TLS (kept for code that builds clusters positionally). */
        public Cluster(String name, String protocol, String lbPolicy, Long connectTimeoutMs,
                       Integer maxPendingRequests, Long heartbeatIntervalMs, Integer maxFrameBytes, List<Host> hosts,
                       HealthCheck healthCheck, OutlierDetection outlierDetection, Integer panicThresholdPercent,
                       String type) {
            this(name, protocol, lbPolicy, connectTimeoutMs, maxPendingRequests, heartbeatIntervalMs, maxFrameBytes,
                    hosts, healthCheck, outlierDetection, panicThresholdPercent, type, null);
        }

        /** This cluster with other hosts, balancing policy and outlier detection. */
        public Cluster withHosts(String newLbPolicy, List<Host> newHosts, OutlierDetection newOutlier) {
            return new Cluster(name, protocol, newLbPolicy, connectTimeoutMs, maxPendingRequests, heartbeatIntervalMs,
                    maxFrameBytes, newHosts, healthCheck, newOutlier, panicThresholdPercent, type, tls, maxQueuedBytes);
        }

        /** A cluster without health policies (kept for code that builds clusters positionally). */
        public Cluster(String name, String protocol, String lbPolicy, Long connectTimeoutMs,
                       Integer maxPendingRequests, Long heartbeatIntervalMs, Integer maxFrameBytes, List<Host> hosts) {
            this(name, protocol, lbPolicy, connectTimeoutMs, maxPendingRequests, heartbeatIntervalMs, maxFrameBytes,
                    hosts, null, null, null, null);
        }

        /** A static cluster (kept for code that builds clusters positionally). */
        public Cluster(String name, String protocol, String lbPolicy, Long connectTimeoutMs,
                       Integer maxPendingRequests, Long heartbeatIntervalMs, Integer maxFrameBytes, List<Host> hosts,
                       HealthCheck healthCheck, OutlierDetection outlierDetection, Integer panicThresholdPercent) {
            this(name, protocol, lbPolicy, connectTimeoutMs, maxPendingRequests, heartbeatIntervalMs, maxFrameBytes,
                    hosts, healthCheck, outlierDetection, panicThresholdPercent, null, null);
        }
    }

    /** {@code type}: {@code tcp} (default) or {@code heartbeat} (needs the cluster's {@code protocol}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record HealthCheck(String type, Long intervalMs, Long timeoutMs, Integer healthyThreshold,
                              Integer unhealthyThreshold) {
    }

    /** Fault isolation; {@code mode} {@code intercept} (default) or {@code monitor}. See docs/routing.md. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record OutlierDetection(Integer windowSeconds, Integer minRequests, Double errorRatioPercent,
                                   Double thresholdMultiple, Integer maxIsolated, Long baseIsolationMs,
                                   Long maxIsolationMs, String mode) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Host(String address, Integer weight, Map<String, String> labels) {
    }
}
