package io.remora.core.config;

import com.fasterxml.jackson.databind.node.NullNode;
import io.remora.core.SidecarContext;
import io.remora.core.chain.ChainMatch;
import io.remora.core.chain.FilterChains;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.core.metrics.ProxyMetrics;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.cluster.HealthCheckPolicy;
import io.remora.core.cluster.OutlierPolicy;
import io.remora.core.router.HostSelector;
import io.remora.core.router.HostSelectorFactory;
import io.remora.core.router.Route;
import io.remora.core.router.RouteTable;
import io.remora.core.tls.SecretStore;
import io.remora.core.tls.TlsContext;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;

/**
 * Validates a {@link SidecarConfig} and compiles it into a {@link ConfigSnapshot}. Every problem is reported as a
 * {@link ConfigException} naming the field path and the bad value; nothing is half-applied.
 */
public final class ConfigCompiler {

    public static final int DEFAULT_ADMIN_PORT = 34901;
    /** Above two SYN retransmits (1 s, 3 s): one dropped SYN (a full accept queue) must not fail a request. As Envoy. */
    public static final long DEFAULT_CONNECT_TIMEOUT_MS = 5000;
    public static final int DEFAULT_MAX_PENDING = 10_000;
    public static final long DEFAULT_HEARTBEAT_MS = 15_000;
    public static final long DEFAULT_IDLE_TIMEOUT_MS = 90_000;
    static final int MAX_FRAME_LIMIT = 1 << 30;
    static final Set<String> LB_POLICIES = Set.of("round_robin", "random", "weighted", "least_request");
    /** Host selection plugins (label routing), found once per compiler. */
    private static final List<HostSelectorFactory> SELECTORS = loadSelectors();
    /** Whether this process runs the epoll transport (transparent listeners need it); replaceable by unit tests. */
    static volatile java.util.function.BooleanSupplier transportIsEpoll =
            () -> io.remora.core.transport.Transport.get().isEpoll();

    private final ProtocolRegistry protocols;
    private final Map<String, StreamFilterFactory> filterFactories;
    private final HostRegistry hostRegistry;
    private final SidecarContext sidecar;
    private final ProxyMetrics metrics;
    private final SecretStore secrets;

    public ConfigCompiler(ProtocolRegistry protocols, Map<String, StreamFilterFactory> filterFactories,
                          HostRegistry hostRegistry, SidecarContext sidecar, ProxyMetrics metrics) {
        this.protocols = protocols;
        this.filterFactories = filterFactories;
        this.hostRegistry = hostRegistry;
        this.sidecar = sidecar;
        this.metrics = metrics;
        SecretStore s = sidecar == null ? null : sidecar.secrets();
        this.secrets = s == null ? new SecretStore() : s;
    }

    /** A compiler for validation only (meters go to a throwaway registry). */
    public ConfigCompiler(ProtocolRegistry protocols, Map<String, StreamFilterFactory> filterFactories,
                          HostRegistry hostRegistry, SidecarContext sidecar) {
        this(protocols, filterFactories, hostRegistry, sidecar, new ProxyMetrics(
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(), ProxyMetrics.DEFAULT_MAX_SERVICE_LABELS));
    }

    public ConfigSnapshot compile(SidecarConfig c, long version, String sourceName) throws ConfigException {
        int workers = c.workerThreads() == null || c.workerThreads() == 0
                ? Runtime.getRuntime().availableProcessors() : c.workerThreads();
        if (workers < 0 || workers > 256) {
            throw new ConfigException("worker_threads", "must be between 0 (one per core) and 256, was " + workers);
        }
        InetSocketAddress admin = compileAdmin(c.admin());
        if (c.log() != null && c.log().level() != null) {
            requireLevel(c.log().level(), "log.level");
        }

        Map<String, Cluster> clusters = new LinkedHashMap<>();
        List<SidecarConfig.Cluster> cl = c.clusters() == null ? List.of() : c.clusters();
        for (int i = 0; i < cl.size(); i++) {
            String p = "clusters[" + i + "]";
            Cluster cluster = compileCluster(cl.get(i), p);
            if (clusters.put(cluster.name(), cluster) != null) {
                throw new ConfigException(p + ".name", "duplicate cluster name \"" + cluster.name() + "\"");
            }
        }

        Map<String, RouteTable> routeTables = new HashMap<>();
        List<SidecarConfig.RouteConfig> rcs = c.routeConfigs() == null ? List.of() : c.routeConfigs();
        for (int i = 0; i < rcs.size(); i++) {
            String p = "route_configs[" + i + "]";
            SidecarConfig.RouteConfig rc = rcs.get(i);
            if (rc == null || rc.name() == null || rc.name().isBlank()) {
                throw new ConfigException(p + ".name", "is required");
            }
            RouteTable t = RouteTable.compile(rc.name(), rc.routes(), p + ".routes");
            checkClusters(t, clusters, p + ".routes");
            if (routeTables.put(rc.name(), t) != null) {
                throw new ConfigException(p + ".name", "duplicate route config name \"" + rc.name() + "\"");
            }
        }

        Map<String, ListenerSpec> listeners = new LinkedHashMap<>();
        List<SidecarConfig.Listener> ls = c.listeners() == null ? List.of() : c.listeners();
        Map<InetSocketAddress, String> addresses = new HashMap<>();
        Map<InetSocketAddress, String> unbound = new HashMap<>();
        List<ListenerDraft> drafts = new ArrayList<>();
        for (int i = 0; i < ls.size(); i++) {
            String p = "listeners[" + i + "]";
            ListenerDraft d = compileListener(ls.get(i), p, routeTables, clusters);
            if (listeners.containsKey(d.name) || drafts.stream().anyMatch(x -> x.name.equals(d.name))) {
                throw new ConfigException(p + ".name", "duplicate listener name \"" + d.name + "\"");
            }
            if (!d.bindToPort) {
                // not bound: its address is only the key of the hand-off from a use_original_dst listener
                String other = unbound.putIfAbsent(d.address, d.name);
                if (other != null) {
                    throw new ConfigException(p + ".address", "\"" + ls.get(i).address()
                            + "\" is already the address of listener \"" + other + "\" (bind_to_port false)");
                }
            } else if (d.address.getPort() != 0) {
                String other = addresses.putIfAbsent(d.address, d.name);
                if (other != null) {
                    throw new ConfigException(p + ".address", "\"" + ls.get(i).address()
                            + "\" is already used by listener \"" + other + "\"");
                }
            }
            drafts.add(d);
        }
        if (admin != null && addresses.containsKey(admin) && admin.getPort() != 0) {
            throw new ConfigException("admin.port", admin.getPort() + " is also a listener's port");
        }

        HostSelector selector = compileSelectors(c, clusters);

        // The snapshot and its listener specs point at each other; build the map, then fill it.
        Map<String, ListenerSpec> specs = new LinkedHashMap<>();
        ConfigSnapshot snapshot = new ConfigSnapshot(c, version, Instant.now(), sourceName,
                Collections.unmodifiableMap(specs), Collections.unmodifiableMap(clusters), admin, workers, selector);
        for (ListenerDraft d : drafts) {
            specs.put(d.name, d.spec(snapshot));
        }
        Set<Host> live = new HashSet<>();
        clusters.values().forEach(x -> live.addAll(List.of(x.hosts())));
        hostRegistry.retainOnly(live);
        return snapshot;
    }

    private static List<HostSelectorFactory> loadSelectors() {
        List<HostSelectorFactory> l = new ArrayList<>();
        ServiceLoader.load(HostSelectorFactory.class).forEach(l::add);
        return List.copyOf(l);
    }

    private HostSelector compileSelectors(SidecarConfig c, Map<String, Cluster> clusters) throws ConfigException {
        if (c.extensions() == null || SELECTORS.isEmpty()) {
            return null;
        }
        List<HostSelector> compiled = new ArrayList<>();
        for (HostSelectorFactory f : SELECTORS) {
            com.fasterxml.jackson.databind.JsonNode node = c.extensions().get(f.key());
            if (node != null && !node.isNull()) {
                try {
                    HostSelector s = f.compile(node, Collections.unmodifiableMap(clusters), sidecar);
                    if (s != null) {
                        compiled.add(s);
                    }
                } catch (ConfigException e) {
                    throw e.under("extensions." + f.key());
                }
            }
        }
        if (compiled.size() <= 1) {
            return compiled.isEmpty() ? null : compiled.get(0);
        }
        HostSelector[] all = compiled.toArray(new HostSelector[0]);
        return (request, cluster) -> {
            for (HostSelector s : all) {
                io.remora.core.cluster.HostSet set = s.select(request, cluster);
                if (set != null) {
                    return set;
                }
            }
            return null;
        };
    }

    /** What serves a connection: a single-chain listener's own settings, or one filter chain's. */
    private record Body(String protocol, List<RpcCodec> codecs, StreamFilter[] filters, RouteTable routes,
                        int maxFrameBytes, long idleTimeoutMillis, TlsContext tls) {
    }

    private record ChainDraft(String name, ChainMatch match, Body body) {
    }

    private record ListenerDraft(String name, InetSocketAddress address, Direction direction, boolean transparent,
                                 boolean bindToPort, boolean useOriginalDst, Body body, List<ChainDraft> chains,
                                 ChainDraft fallback, long inspectTimeoutMillis, long idleTimeoutMillis) {

        ListenerSpec spec(ConfigSnapshot snapshot) throws ConfigException {
            if (body != null) {
                return new ListenerSpec(name, address, body.protocol(), body.codecs(), direction, body.filters(),
                        body.routes(), body.maxFrameBytes(), body.idleTimeoutMillis(), snapshot, transparent,
                        body.tls(), bindToPort, useOriginalDst, null, null);
            }
            List<FilterChains.Chain> cs = new ArrayList<>();
            for (ChainDraft c : chains) {
                cs.add(chain(c, snapshot));
            }
            return new ListenerSpec(name, address, ListenerSpec.CHAINED, List.of(), direction, new StreamFilter[0],
                    RouteTable.compile(name, List.of(), "listeners." + name), ProtocolOptions.DEFAULT_MAX_FRAME_BYTES,
                    idleTimeoutMillis, snapshot, transparent, null, bindToPort, useOriginalDst,
                    new FilterChains(cs, fallback == null ? null : chain(fallback, snapshot),
                            inspectTimeoutMillis), null);
        }

        private FilterChains.Chain chain(ChainDraft c, ConfigSnapshot snapshot) {
            Body b = c.body();
            return new FilterChains.Chain(c.name(), c.match(), new ListenerSpec(name, address,
                    b.protocol(), b.codecs(), direction, b.filters(), b.routes(), b.maxFrameBytes(),
                    b.idleTimeoutMillis(), snapshot, transparent, b.tls(), bindToPort, useOriginalDst, null,
                    c.name()));
        }
    }

    static final long DEFAULT_INSPECT_TIMEOUT_MS = 1000;

    private ListenerDraft compileListener(SidecarConfig.Listener l, String p, Map<String, RouteTable> routeTables,
                                          Map<String, Cluster> clusters) throws ConfigException {
        if (l == null) {
            throw new ConfigException(p, "must be an object");
        }
        String name = requireName(l.name(), p + ".name");
        InetSocketAddress address = parseAddress(l.address(), p + ".address");
        Direction direction;
        String dir = l.direction() == null ? "outbound" : l.direction();
        switch (dir) {
            case "outbound" -> direction = Direction.OUTBOUND;
            case "inbound" -> direction = Direction.INBOUND;
            default -> throw new ConfigException(p + ".direction", "must be \"outbound\" or \"inbound\", was \""
                    + dir + "\"");
        }
        long idle = l.idleTimeoutMs() == null ? DEFAULT_IDLE_TIMEOUT_MS : l.idleTimeoutMs();
        if (idle < 0) {
            throw new ConfigException(p + ".idle_timeout_ms", "must be >= 0 (0 = never), was " + idle);
        }
        boolean transparent = Boolean.TRUE.equals(l.transparent());
        if (transparent && !transportIsEpoll.getAsBoolean()) {
            throw new ConfigException(p + ".transparent", "needs the epoll transport (Linux with Netty's native epoll;"
                    + " IP_TRANSPARENT is not available on " + io.remora.core.transport.Transport.get().name()
                    + ")");
        }
        boolean bind = l.bindToPort() == null || l.bindToPort();
        boolean useOriginalDst = Boolean.TRUE.equals(l.useOriginalDst());
        if (!bind && transparent) {
            throw new ConfigException(p + ".transparent", "a listener with bind_to_port false has no socket");
        }
        long inspect = l.inspectTimeoutMs() == null ? DEFAULT_INSPECT_TIMEOUT_MS : l.inspectTimeoutMs();
        if (inspect < 1 || inspect > 600_000) {
            throw new ConfigException(p + ".inspect_timeout_ms", "must be between 1 and 600000, was " + inspect);
        }
        if (!l.chained()) {
            Body body = compileBody(name, direction, l.protocol(), l.routeConfig(), l.routes(), l.filters(),
                    l.maxFrameBytes(), idle, l.options(), l.tls(), p, routeTables, clusters);
            return new ListenerDraft(name, address, direction, transparent, bind, useOriginalDst, body, null, null,
                    inspect, idle);
        }
        String[] single = {"protocol", "route_config", "routes", "filters", "max_frame_bytes", "options", "tls"};
        Object[] values = {l.protocol(), l.routeConfig(), l.routes(), l.filters(), l.maxFrameBytes(), l.options(),
            l.tls()};
        for (int i = 0; i < single.length; i++) {
            if (values[i] != null) {
                throw new ConfigException(p + "." + single[i], "is not allowed with filter_chains (each chain has "
                        + "its own)");
            }
        }
        List<ChainDraft> chains = new ArrayList<>();
        Map<String, String> keys = new HashMap<>();
        Set<String> names = new HashSet<>();
        List<SidecarConfig.FilterChain> fcs = l.filterChains() == null ? List.of() : l.filterChains();
        for (int i = 0; i < fcs.size(); i++) {
            String cp = p + ".filter_chains[" + i + "]";
            ChainDraft c = compileChain(fcs.get(i), "chain-" + i, cp, name, direction, idle, routeTables, clusters);
            if (!names.add(c.name())) {
                throw new ConfigException(cp + ".name", "duplicate filter chain name \"" + c.name() + "\"");
            }
            String other = keys.putIfAbsent(c.match().key(), cp);
            if (other != null) {
                throw new ConfigException(cp + ".match", "the same match as " + other + " (a connection could never "
                        + "tell them apart)");
            }
            chains.add(c);
        }
        ChainDraft fallback = null;
        if (l.defaultFilterChain() != null) {
            String cp = p + ".default_filter_chain";
            if (l.defaultFilterChain().match() != null) {
                throw new ConfigException(cp + ".match", "the default chain has no match (it serves what no chain "
                        + "matches)");
            }
            fallback = compileChain(l.defaultFilterChain(), "default", cp, name, direction, idle, routeTables,
                    clusters);
            if (!names.add(fallback.name())) {
                throw new ConfigException(cp + ".name", "duplicate filter chain name \"" + fallback.name() + "\"");
            }
        }
        if (chains.isEmpty() && fallback == null) {
            throw new ConfigException(p + ".filter_chains", "must not be empty (or give a default_filter_chain)");
        }
        return new ListenerDraft(name, address, direction, transparent, bind, useOriginalDst, null, chains, fallback,
                inspect, idle);
    }

    private ChainDraft compileChain(SidecarConfig.FilterChain fc, String defaultName, String cp, String listener,
                                    Direction direction, long listenerIdle, Map<String, RouteTable> routeTables,
                                    Map<String, Cluster> clusters) throws ConfigException {
        if (fc == null) {
            throw new ConfigException(cp, "must be an object");
        }
        String chainName = fc.name() == null ? defaultName : fc.name();
        if (chainName.isBlank()) {
            throw new ConfigException(cp + ".name", "must not be blank");
        }
        ChainMatch match = ChainMatch.compile(fc.match(), cp + ".match");
        long idle = fc.idleTimeoutMs() == null ? listenerIdle : fc.idleTimeoutMs();
        if (idle < 0) {
            throw new ConfigException(cp + ".idle_timeout_ms", "must be >= 0 (0 = never), was " + idle);
        }
        Body body = compileBody(listener, direction, fc.protocol(), fc.routeConfig(), fc.routes(), fc.filters(),
                fc.maxFrameBytes(), idle, fc.options(), fc.tls(), cp, routeTables, clusters);
        return new ChainDraft(chainName, match, body);
    }

    private Body compileBody(String name, Direction direction, String protocol, String routeConfig,
                             List<SidecarConfig.Route> routeList, List<SidecarConfig.Filter> filterList,
                             Integer maxFrameBytes, long idle, Map<String, String> opts, SidecarConfig.Tls tlsConfig,
                             String p, Map<String, RouteTable> routeTables, Map<String, Cluster> clusters)
            throws ConfigException {
        if (protocol == null) {
            throw new ConfigException(p + ".protocol", "is required (one of " + protocolChoices() + ")");
        }
        int maxFrame = maxFrameBytes == null ? ProtocolOptions.DEFAULT_MAX_FRAME_BYTES : maxFrameBytes;
        if (maxFrame <= 0 || maxFrame > MAX_FRAME_LIMIT) {
            throw new ConfigException(p + ".max_frame_bytes", "must be between 1 and " + MAX_FRAME_LIMIT + ", was "
                    + maxFrame);
        }
        ProtocolOptions options = new ProtocolOptions(maxFrame, opts == null ? Map.of() : opts);
        List<RpcCodec> codecs = new ArrayList<>();
        if (protocol.equals("auto")) {
            for (Protocol proto : protocols.all()) {
                codecs.add(proto.codec(options));
            }
            if (codecs.isEmpty()) {
                throw new ConfigException(p + ".protocol", "\"auto\" needs at least one protocol plugin");
            }
        } else {
            Protocol proto = protocols.get(protocol);
            if (proto == null) {
                throw new ConfigException(p + ".protocol", "unknown protocol \"" + protocol + "\" (one of "
                        + protocolChoices() + ")");
            }
            codecs.add(proto.codec(options));
        }
        RouteTable routes;
        if ((routeConfig == null) == (routeList == null)) {
            throw new ConfigException(p, "needs exactly one of \"route_config\" and \"routes\"");
        }
        if (routeConfig != null) {
            routes = routeTables.get(routeConfig);
            if (routes == null) {
                throw new ConfigException(p + ".route_config", "unknown route config \"" + routeConfig + "\"");
            }
        } else {
            routes = RouteTable.compile(name, routeList, p + ".routes");
            checkClusters(routes, clusters, p + ".routes");
        }
        List<StreamFilter> filters = new ArrayList<>();
        if (filterList != null) {
            for (int f = 0; f < filterList.size(); f++) {
                String fp = p + ".filters[" + f + "]";
                SidecarConfig.Filter fc = filterList.get(f);
                if (fc == null || fc.type() == null) {
                    throw new ConfigException(fp + ".type", "is required (one of " + filterFactories.keySet() + ")");
                }
                StreamFilterFactory factory = filterFactories.get(fc.type());
                if (factory == null) {
                    throw new ConfigException(fp + ".type", "unknown filter type \"" + fc.type() + "\" (one of "
                            + filterFactories.keySet() + ")");
                }
                try {
                    filters.add(factory.create(fc.config() == null ? NullNode.getInstance() : fc.config(),
                            new FilterContext(name, direction, protocol, sidecar)));
                } catch (ConfigException e) {
                    throw e.under(fp + ".config");
                }
            }
        }
        TlsContext tls = TlsContext.compile(tlsConfig, p + ".tls", true,
                secrets);
        return new Body(protocol, List.copyOf(codecs), filters.toArray(new StreamFilter[0]), routes, maxFrame, idle,
                tls);
    }

    private Cluster compileCluster(SidecarConfig.Cluster c, String p) throws ConfigException {
        if (c == null) {
            throw new ConfigException(p, "must be an object");
        }
        String name = requireName(c.name(), p + ".name");
        Protocol protocol = null;
        if (c.protocol() != null) {
            protocol = protocols.get(c.protocol());
            if (protocol == null) {
                throw new ConfigException(p + ".protocol", "unknown protocol \"" + c.protocol() + "\" (one of "
                        + protocols.names() + ")");
            }
        }
        String lb = c.lbPolicy() == null ? "round_robin" : c.lbPolicy();
        if (!LB_POLICIES.contains(lb)) {
            throw new ConfigException(p + ".lb_policy", "unknown policy \"" + lb + "\" (one of " + LB_POLICIES + ")");
        }
        long connectTimeout = c.connectTimeoutMs() == null ? DEFAULT_CONNECT_TIMEOUT_MS : c.connectTimeoutMs();
        if (connectTimeout <= 0 || connectTimeout > 600_000) {
            throw new ConfigException(p + ".connect_timeout_ms", "must be between 1 and 600000, was " + connectTimeout);
        }
        int maxPending = c.maxPendingRequests() == null ? DEFAULT_MAX_PENDING : c.maxPendingRequests();
        if (maxPending <= 0) {
            throw new ConfigException(p + ".max_pending_requests", "must be > 0, was " + maxPending);
        }
        long heartbeat = c.heartbeatIntervalMs() == null ? DEFAULT_HEARTBEAT_MS : c.heartbeatIntervalMs();
        if (heartbeat < 0) {
            throw new ConfigException(p + ".heartbeat_interval_ms", "must be >= 0 (0 = never), was " + heartbeat);
        }
        int maxFrame = c.maxFrameBytes() == null ? ProtocolOptions.DEFAULT_MAX_FRAME_BYTES : c.maxFrameBytes();
        if (maxFrame <= 0 || maxFrame > MAX_FRAME_LIMIT) {
            throw new ConfigException(p + ".max_frame_bytes", "must be between 1 and " + MAX_FRAME_LIMIT + ", was "
                    + maxFrame);
        }
        long maxQueued = c.maxQueuedBytes() == null ? Cluster.DEFAULT_MAX_QUEUED_BYTES : c.maxQueuedBytes();
        if (maxQueued <= 0) {
            throw new ConfigException(p + ".max_queued_bytes", "must be > 0, was " + maxQueued);
        }
        String type = c.type() == null ? "static" : c.type();
        if (type.equals("original_dst")) {
            if (c.hosts() != null && !c.hosts().isEmpty()) {
                throw new ConfigException(p + ".hosts", "must be absent for an original_dst cluster (each request"
                        + " goes to its connection's original destination)");
            }
            if (c.healthCheck() != null || c.outlierDetection() != null) {
                throw new ConfigException(p + (c.healthCheck() != null ? ".health_check" : ".outlier_detection"),
                        "is not supported on an original_dst cluster (it has no fixed hosts)");
            }
            return Cluster.withTls(Cluster.originalDst(new Cluster(name, protocol, new ProtocolOptions(maxFrame,
                    Map.of()), lb, new Host[0], connectTimeout, maxPending, heartbeat, metrics.cluster(name))
                    .maxQueuedBytes(maxQueued), hostRegistry.originalDst(name)),
                    TlsContext.compile(c.tls(), p + ".tls", false, secrets));
        } else if (!type.equals("static")) {
            throw new ConfigException(p + ".type", "unknown cluster type \"" + type
                    + "\" (one of [static, original_dst])");
        }
        if (c.hosts() == null) {
            throw new ConfigException(p + ".hosts", "is required (a list, may be empty)");
        }
        List<Host> hosts = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int h = 0; h < c.hosts().size(); h++) {
            String hp = p + ".hosts[" + h + "]";
            SidecarConfig.Host hc = c.hosts().get(h);
            if (hc == null) {
                throw new ConfigException(hp, "must be an object");
            }
            InetSocketAddress addr = parseAddress(hc.address(), hp + ".address");
            if (addr.getPort() == 0) {
                throw new ConfigException(hp + ".address", "port must be 1-65535, was \"" + hc.address() + "\"");
            }
            if (!seen.add(hc.address())) {
                throw new ConfigException(hp + ".address", "duplicate host \"" + hc.address() + "\"");
            }
            int weight = hc.weight() == null ? 1 : hc.weight();
            if (weight < 0 || weight > 1_000_000) {
                throw new ConfigException(hp + ".weight", "must be between 0 and 1000000, was " + weight);
            }
            Map<String, String> labels = hc.labels() == null ? Map.of() : Map.copyOf(hc.labels());
            hosts.add(hostRegistry.host(name, hc.address(), addr, weight, labels));
        }
        int panic = c.panicThresholdPercent() == null ? Cluster.DEFAULT_PANIC_PERCENT : c.panicThresholdPercent();
        if (panic < 0 || panic > 100) {
            throw new ConfigException(p + ".panic_threshold_percent", "must be between 0 and 100, was " + panic);
        }
        HealthCheckPolicy hc = compileHealthCheck(c.healthCheck(), protocol, p + ".health_check");
        OutlierPolicy od = compileOutlier(c.outlierDetection(), p + ".outlier_detection");
        return Cluster.withTls(new Cluster(name, protocol, new ProtocolOptions(maxFrame, Map.of()), lb,
                hosts.toArray(new Host[0]), connectTimeout, maxPending, heartbeat, metrics.cluster(name), panic, hc, od)
                .maxQueuedBytes(maxQueued), TlsContext.compile(c.tls(), p + ".tls", false, secrets));
    }

    private static HealthCheckPolicy compileHealthCheck(SidecarConfig.HealthCheck h, Protocol protocol, String p)
            throws ConfigException {
        if (h == null) {
            return null;
        }
        String type = h.type() == null ? "tcp" : h.type();
        if (!type.equals("tcp") && !type.equals("heartbeat")) {
            throw new ConfigException(p + ".type", "must be \"tcp\" or \"heartbeat\", was \"" + type + "\"");
        }
        if (type.equals("heartbeat") && protocol == null) {
            throw new ConfigException(p + ".type", "\"heartbeat\" needs the cluster's \"protocol\"");
        }
        long interval = h.intervalMs() == null ? 5000 : h.intervalMs();
        long timeout = h.timeoutMs() == null ? 1000 : h.timeoutMs();
        if (interval < 10 || interval > 3_600_000) {
            throw new ConfigException(p + ".interval_ms", "must be between 10 and 3600000, was " + interval);
        }
        if (timeout < 1 || timeout > 600_000) {
            throw new ConfigException(p + ".timeout_ms", "must be between 1 and 600000, was " + timeout);
        }
        int healthy = h.healthyThreshold() == null ? 1 : h.healthyThreshold();
        int unhealthy = h.unhealthyThreshold() == null ? 3 : h.unhealthyThreshold();
        if (healthy < 1 || unhealthy < 1) {
            throw new ConfigException(p, "healthy_threshold and unhealthy_threshold must be >= 1");
        }
        return new HealthCheckPolicy(type, interval, timeout, healthy, unhealthy);
    }

    private static OutlierPolicy compileOutlier(SidecarConfig.OutlierDetection o, String p) throws ConfigException {
        if (o == null) {
            return null;
        }
        int window = o.windowSeconds() == null ? 10 : o.windowSeconds();
        if (window < 1 || window > 60) {
            throw new ConfigException(p + ".window_seconds", "must be between 1 and 60, was " + window);
        }
        int min = o.minRequests() == null ? 10 : o.minRequests();
        if (min < 1) {
            throw new ConfigException(p + ".min_requests", "must be >= 1, was " + min);
        }
        double ratio = o.errorRatioPercent() == null ? 50 : o.errorRatioPercent();
        if (ratio < 0 || ratio > 100) {
            throw new ConfigException(p + ".error_ratio_percent", "must be between 0 and 100, was " + ratio);
        }
        double multiple = o.thresholdMultiple() == null ? 1 : o.thresholdMultiple();
        if (multiple <= 0) {
            throw new ConfigException(p + ".threshold_multiple", "must be > 0, was " + multiple);
        }
        int max = o.maxIsolated() == null ? 1 : o.maxIsolated();
        if (max < 0) {
            throw new ConfigException(p + ".max_isolated", "must be >= 0, was " + max);
        }
        long base = o.baseIsolationMs() == null ? 30_000 : o.baseIsolationMs();
        long maxMs = o.maxIsolationMs() == null ? Math.max(base, 300_000) : o.maxIsolationMs();
        if (base < 1 || maxMs < base) {
            throw new ConfigException(p + ".base_isolation_ms", "must be >= 1 and <= max_isolation_ms, was " + base);
        }
        String mode = o.mode() == null ? "intercept" : o.mode();
        if (!mode.equals("intercept") && !mode.equals("monitor")) {
            throw new ConfigException(p + ".mode", "must be \"intercept\" or \"monitor\", was \"" + mode + "\"");
        }
        return new OutlierPolicy(window, min, ratio, multiple, max, base, maxMs, mode.equals("monitor"));
    }

    private static void checkClusters(RouteTable t, Map<String, Cluster> clusters, String p) throws ConfigException {
        for (Route r : t.routes()) {
            for (String cluster : r.clusters()) {
                if (!clusters.containsKey(cluster)) {
                    throw new ConfigException(p, "route \"" + r.name() + "\" points at unknown cluster \"" + cluster
                            + "\" (known: " + clusters.keySet() + ")");
                }
            }
        }
    }

    /** The admin TCP address, or null when the admin API is served on its Unix socket only. */
    private InetSocketAddress compileAdmin(SidecarConfig.Admin a) throws ConfigException {
        validateAdminAccess(a);
        String host = a == null || a.address() == null ? "127.0.0.1" : a.address();
        if (a != null && a.unixSocket() != null && (a.port() == null || a.port() == 0)) {
            return null;
        }
        int port = a == null || a.port() == null ? DEFAULT_ADMIN_PORT : a.port();
        if (port < 0 || port > 65535) {
            throw new ConfigException("admin.port", "must be between 0 and 65535, was " + port);
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new ConfigException("admin.address", "cannot resolve \"" + host + "\"");
        }
    }

    /** Longest Unix socket path the kernel takes (sun_path is 108 bytes with its terminating NUL). */
    static final int MAX_UNIX_SOCKET_PATH = 107;
    static final int MIN_ADMIN_TOKEN = 16;

    private static void validateAdminAccess(SidecarConfig.Admin a) throws ConfigException {
        if (a == null) {
            return;
        }
        String sock = a.unixSocket();
        if (sock != null) {
            if (sock.isBlank() || !sock.startsWith("/")) {
                throw new ConfigException("admin.unix_socket", "must be an absolute path, was \"" + sock + "\"");
            }
            if (sock.indexOf('\0') >= 0 || sock.endsWith("/")) {
                throw new ConfigException("admin.unix_socket", "must name a file, was \"" + sock + "\"");
            }
            int len = sock.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (len > MAX_UNIX_SOCKET_PATH) {
                throw new ConfigException("admin.unix_socket", "is " + len + " bytes, the kernel allows at most "
                        + MAX_UNIX_SOCKET_PATH + ": \"" + sock + "\"");
            }
        }
        if (a.unixSocketMode() != null) {
            if (sock == null) {
                throw new ConfigException("admin.unix_socket_mode", "needs admin.unix_socket");
            }
            if (!a.unixSocketMode().matches("0?[0-7][0-7][0-7]")) {
                throw new ConfigException("admin.unix_socket_mode", "must be octal permissions like \"0600\", was \""
                        + a.unixSocketMode() + "\"");
            }
        }
        String token = a.token();
        if (token != null) {
            if (token.length() < MIN_ADMIN_TOKEN) {
                throw new ConfigException("admin.token", "must be at least " + MIN_ADMIN_TOKEN
                        + " characters (was " + token.length() + ")");
            }
            for (int i = 0; i < token.length(); i++) {
                char ch = token.charAt(i);
                if (ch <= ' ' || ch > '~') {
                    throw new ConfigException("admin.token", "must be printable ASCII without spaces (character "
                            + (i + 1) + " is not)");
                }
            }
        }
        if (Boolean.TRUE.equals(a.tokenRequiredForReads()) && token == null) {
            throw new ConfigException("admin.token_required_for_reads", "needs admin.token");
        }
    }

    private String protocolChoices() {
        List<String> names = new ArrayList<>(protocols.names());
        names.add("auto");
        return names.toString();
    }

    private static String requireName(String name, String p) throws ConfigException {
        if (name == null || name.isBlank()) {
            throw new ConfigException(p, "is required");
        }
        return name;
    }

    static final Set<String> LEVELS = Set.of("FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE");

    static void requireLevel(String level, String p) throws ConfigException {
        if (!LEVELS.contains(level)) {
            throw new ConfigException(p, "unknown level \"" + level + "\" (one of FATAL, ERROR, WARN, INFO, DEBUG, TRACE)");
        }
    }

    /** Parses {@code host:port} (IPv6 as {@code [::1]:port}); resolves the host. */
    public static InetSocketAddress parseAddress(String s, String p) throws ConfigException {
        if (s == null || s.isBlank()) {
            throw new ConfigException(p, "is required (host:port)");
        }
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new ConfigException(p, "\"" + s + "\" is not host:port");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new ConfigException(p, "\"" + s + "\" has a port that is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new ConfigException(p, "\"" + s + "\" has port " + port + ", outside 0-65535");
        }
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (UnknownHostException e) {
            throw new ConfigException(p, "cannot resolve host of \"" + s + "\"");
        }
    }
}
