package io.remora.core;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.remora.core.admin.AdminHost;
import io.remora.core.admin.AdminRoutes;
import io.remora.core.admin.AdminServer;
import io.remora.core.admin.CoreAdminEndpoints;
import io.remora.core.admin.ServerState;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigManager;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.ListenerSpec;
import io.remora.core.config.SidecarConfig;
import io.remora.core.digest.DigestLog;
import io.remora.core.metrics.ProcessMetrics;
import io.remora.core.metrics.ProxyMetrics;
import io.remora.core.filter.Direction;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.core.log.LogFiles;
import io.remora.core.log.LogManager;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.proxy.ConnectionHandoff;
import io.remora.core.proxy.ListenerManager;
import io.remora.core.proxy.ListenerSlot;
import io.remora.core.router.HostSelectorFactory;
import io.remora.core.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The running sidecar: loads plugins, compiles config, opens the admin port and the listeners. {@link #main} is the
 * command line; tests start one in-process with {@link #start(SidecarConfig, Options)}.
 */
public final class Sidecar implements SidecarContext, AutoCloseable {

    private static final Logger startup = LoggerFactory.getLogger("io.remora.startup");

    /** Process-level settings that are not part of the config snapshot. */
    public record Options(Path logDir, boolean console, String sourceName) {
        public static Options defaults() {
            return new Options(null, true, "api");
        }
    }

    private final LogManager logs;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AdminServer admin = new AdminServer();
    private final AdminServer metricsServer = new AdminServer();
    private final DigestLog digest;
    private final EventLoopGroup workers;
    private final ConfigManager config;
    private final ListenerManager listeners;
    private final List<SidecarExtension> extensions = new ArrayList<>();
    private final long startNanos;
    private final Map<String, java.util.function.BooleanSupplier> readinessChecks =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final io.remora.core.tls.SecretStore secrets = new io.remora.core.tls.SecretStore();
    private volatile boolean closed;
    private volatile SidecarConfig initialConfig;
    private final ProtocolRegistry protocols;
    private final Map<String, StreamFilterFactory> filters;
    private final int workerThreads;
    private final java.time.Instant startedAt = java.time.Instant.now();
    private volatile Options options = Options.defaults();
    /** Envoy's /healthcheck/fail: not ready, state DRAINING, until /healthcheck/ok. */
    private volatile boolean healthCheckFailed;
    /** Listeners stopped by the admin API's drain_listeners: nothing (e.g. the app heartbeat) reopens them. */
    private final java.util.Set<String> stoppedByAdmin = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final io.remora.core.limits.ConnectionLimits connectionLimits;
    private final io.remora.core.limits.OverloadManager overload;

    private Sidecar(LogManager logs, int workerThreads, ProtocolRegistry protocols,
                    Map<String, StreamFilterFactory> filters, long startNanos, SidecarConfig.Metrics m,
                    io.remora.core.limits.Limits limits, io.remora.core.limits.OverloadManager.Config overloadConfig,
                    SidecarConfig.Node node) {
        this.logs = logs;
        this.startNanos = startNanos;
        this.protocols = protocols;
        this.filters = filters;
        this.workerThreads = workerThreads;
        this.workers = Transport.get().newGroup(workerThreads, "remora-worker");
        ProcessMetrics.bind(metrics, workers);
        io.remora.core.metrics.IstioMetrics istio = m != null && Boolean.FALSE.equals(m.istio()) ? null
                : new io.remora.core.metrics.IstioMetrics(metrics, metrics.getPrometheusRegistry(),
                        io.remora.core.metrics.IstioMetrics.Workload.from(
                        node, System.getenv()), m == null || m.istioMaxLabelSets() == null
                        ? io.remora.core.metrics.IstioMetrics.DEFAULT_MAX_LABEL_SETS : m.istioMaxLabelSets());
        ProxyMetrics proxyMetrics = new ProxyMetrics(metrics, m == null || m.maxServiceLabels() == null
                ? ProxyMetrics.DEFAULT_MAX_SERVICE_LABELS : m.maxServiceLabels(), istio);
        this.digest = new DigestLog(logs, metrics, m == null || m.digestQueue() == null
                ? DigestLog.DEFAULT_CAPACITY : m.digestQueue());
        org.slf4j.Logger limitsLog = logs.fileLogger("limits.log", "INFO");
        this.connectionLimits = new io.remora.core.limits.ConnectionLimits(limits, metrics, limitsLog);
        this.listeners = new ListenerManager(workers, proxyMetrics, digest, connectionLimits);
        this.overload = new io.remora.core.limits.OverloadManager(overloadConfig, metrics,
                over -> {
                    if (overloadConfig.stopAccepting()) {
                        listeners.pauseAccepting(over);
                    }
                }, limitsLog);
        listeners.overload(overload);
        this.config = new ConfigManager(new ConfigCompiler(protocols, filters, new HostRegistry(), this,
                proxyMetrics));
        this.config.addApplier(listeners);
    }

    /**
     * Starts a sidecar with {@code cfg}. Invalid config throws {@link ConfigException} before anything is bound.
     */
    public static Sidecar start(SidecarConfig cfg, Options options) throws Exception {
        long t0 = System.nanoTime();
        Path logDir = options.logDir() != null ? options.logDir()
                : Path.of(cfg.log() != null && cfg.log().dir() != null ? cfg.log().dir() : "logs");
        LogManager logs = LogManager.configure(logDir, cfg.log() == null ? null : cfg.log().level(), options.console());
        Transport t = Transport.get();
        if (t.isEpoll()) {
            startup.info("transport: epoll (native)");
        } else {
            startup.info("transport: nio{}", t.epollUnavailableCause() == null ? ""
                    : " (epoll unavailable: " + t.epollUnavailableCause() + ")");
        }
        ProtocolRegistry protocols = ProtocolRegistry.load();
        Map<String, StreamFilterFactory> filters = new LinkedHashMap<>();
        for (StreamFilterFactory f : ServiceLoader.load(StreamFilterFactory.class)) {
            filters.put(f.type(), f);
        }
        startup.info("protocols: {}; filters: {}", protocols.names(), filters.keySet());
        int workers = cfg.workerThreads() == null || cfg.workerThreads() <= 0
                ? Runtime.getRuntime().availableProcessors() : cfg.workerThreads();
        validateMetrics(cfg.metrics());
        io.remora.core.limits.Limits limits = io.remora.core.limits.Limits.compile(cfg.limits());
        io.remora.core.limits.OverloadManager.Config overload =
                io.remora.core.limits.OverloadManager.Config.compile(cfg.overload());
        Sidecar s = new Sidecar(logs, workers, protocols, filters, t0, cfg.metrics(), limits, overload, cfg.node());
        s.options = options;
        try {
            s.boot(cfg, options.sourceName());
        } catch (Exception e) {
            s.close();
            throw e;
        }
        return s;
    }

    private void boot(SidecarConfig cfg, String sourceName) throws Exception {
        config.validate(cfg);
        initialConfig = cfg;
        if (cfg.log() != null && cfg.log().levels() != null) {
            for (Map.Entry<String, String> e : cfg.log().levels().entrySet()) {
                logs.fileLogger(e.getKey(), e.getValue());
            }
        }
        new CoreAdminEndpoints(new AdminView()).registerAll(admin);
        registerCoreFeatures();
        // For pre-stop hooks and Jobs: the same drain as SIGTERM, without exiting; GET shows progress.
        admin.register("POST", "/api/v1/drain", "drain like SIGTERM without exiting (202); GET shows progress", r -> {
            Thread t = new Thread(() -> drain(drainTimeout), "remora-admin-drain");
            t.setDaemon(true);
            t.start();
            return new io.remora.core.admin.AdminResponse(202, "text/plain; charset=utf-8", "draining\n");
        });
        admin.register("GET", "/api/v1/drain", r -> io.remora.core.admin.AdminResponse.json(
                "{\"draining\":" + draining + ",\"open_connections\":" + listeners.openConnections() + "}"));
        for (SidecarExtension ext : ServiceLoader.load(SidecarExtension.class)) {
            ext.start(this);
            extensions.add(ext);
            startup.info("extension {} started", ext.name());
        }
        ConfigSnapshot snap = config.apply(cfg, sourceName);
        // Admin access is fixed at start: a later config (xDS, the admin API itself) cannot loosen it.
        SidecarConfig.Admin ac = cfg.admin();
        admin.protect(ac == null ? null : ac.token(), ac != null && Boolean.TRUE.equals(ac.tokenRequiredForReads()));
        if (snap.adminAddress() != null) {
            InetSocketAddress a = admin.start(snap.adminAddress());
            startup.info("admin API on http://{}:{}{}", a.getAddress().getHostAddress(), a.getPort(),
                    admin.protectedByToken() ? " (token required for changes)" : "");
        }
        if (ac != null && ac.unixSocket() != null) {
            Path sock = admin.startUnix(Path.of(ac.unixSocket()), ac.unixSocketMode());
            startup.info("admin API on unix socket {}{}", sock,
                    snap.adminAddress() == null ? " only (no TCP port)" : "");
        }
        SidecarConfig.Metrics m = cfg.metrics();
        if (m != null && m.port() != null) {
            metricsServer.register("GET", "/metrics", r -> new io.remora.core.admin.AdminResponse(200,
                    "text/plain; version=0.0.4; charset=utf-8", metrics.scrape()));
            InetSocketAddress ma = metricsServer.start(new InetSocketAddress(
                    java.net.InetAddress.getByName(m.address() == null ? "127.0.0.1" : m.address()), m.port()));
            startup.info("Prometheus metrics on http://{}:{}/metrics", ma.getAddress().getHostAddress(), ma.getPort());
        }
        for (SidecarExtension ext : extensions) {
            ext.started();
        }
        startup.info("remora ready in {} ms (pid {}, {} worker thread(s), log dir {})",
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos), ProcessHandle.current().pid(),
                snap.workerThreads(), logs.dir());
    }

    /** Ready once every listener of the first config is serving and every readiness check passes. */
    public boolean ready() {
        if (closed || draining || healthCheckFailed || !listeners.serving()) {
            return false;
        }
        for (java.util.function.BooleanSupplier check : readinessChecks.values()) {
            if (!check.getAsBoolean()) {
                return false;
            }
        }
        return true;
    }

    /** Names of readiness checks that currently fail (for /api/v1/states). */
    public java.util.List<String> failingReadinessChecks() {
        java.util.List<String> failing = new ArrayList<>();
        readinessChecks.forEach((name, check) -> {
            if (!check.getAsBoolean()) {
                failing.add(name);
            }
        });
        return failing;
    }

    @Override
    public void addReadinessCheck(String name, java.util.function.BooleanSupplier check) {
        readinessChecks.put(name, check);
    }

    @Override
    public boolean setListenerAccepting(String listener, boolean accepting) {
        return !(accepting && (draining || closed || stoppedByAdmin.contains(listener)))
                && listeners.setAccepting(listener, accepting);
    }

    @Override
    public io.remora.core.tls.SecretStore secrets() {
        return secrets;
    }

    @Override
    public ConfigManager config() {
        return config;
    }

    @Override
    public AdminRoutes admin() {
        return admin;
    }

    @Override
    public MeterRegistry metrics() {
        return metrics;
    }

    @Override
    public LogFiles logs() {
        return logs;
    }

    public LogManager logManager() {
        return logs;
    }

    /** The process-wide connection limits (open count, refused connections). */
    public io.remora.core.limits.ConnectionLimits connectionLimits() {
        return connectionLimits;
    }

    @Override
    public ListenerManager listeners() {
        return listeners;
    }

    @Override
    public SidecarConfig initialConfig() {
        return initialConfig;
    }

    @Override
    public AdminServer adminServer() {
        return admin;
    }

    @Override
    public AdminServer metricsServer() {
        return metricsServer;
    }

    @Override
    public String localApp() {
        ConfigSnapshot s = config.current();
        return s == null || s.source().node() == null ? null : s.source().node().app();
    }

    /** The address listener {@code name} is bound to (tests use port 0). */
    public InetSocketAddress listenerAddress(String name) {
        return listeners.boundAddress(name);
    }

    public InetSocketAddress adminAddress() {
        return admin.address();
    }

    private volatile boolean draining;
    private volatile java.time.Duration drainTimeout = DEFAULT_DRAIN;

    /** True from the start of a drain: readiness is false and no new connection is accepted. */
    public boolean draining() {
        return draining;
    }

    /**
     * Graceful drain: report not ready, stop accepting, let every connection finish its in-flight requests and close
     * after its last response, waiting at most {@code deadline}. Returns true if every connection closed in time.
     * Safe to call more than once; safe from any thread except an event loop.
     */
    public boolean drain(java.time.Duration deadline) {
        if (!draining) {
            draining = true;
            startup.info("draining: not ready, listeners closed, connections close after their last response "
                    + "(deadline {} ms)", deadline.toMillis());
            listeners.closeListeners();
            listeners.closeConnectionsWhenIdle();
        }
        long end = System.nanoTime() + deadline.toNanos();
        while (listeners.openConnections() > 0 && System.nanoTime() < end) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int left = listeners.openConnections();
        if (left > 0) {
            startup.info("drain deadline passed with {} connection(s) still open; closing them", left);
        } else {
            startup.info("drained: every connection finished");
        }
        return left == 0;
    }

    /** Stops accepting, closes connections, stops plugins and threads. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        overload.close();
        for (SidecarExtension e : extensions) {
            try {
                e.stop();
            } catch (RuntimeException ex) {
                LoggerFactory.getLogger(Sidecar.class).warn("extension {} failed to stop", e.name(), ex);
            }
        }
        listeners.closeListeners();
        listeners.closeConnections();
        listeners.closeUpstreamConnections();
        admin.stop();
        metricsServer.stop();
        digest.close();
        workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        metrics.close();
    }

    // ---------------------------------------------------------------- command line

    /** How long a SIGTERM drain may take before the process exits anyway (override: --drain-timeout seconds). */
    static final java.time.Duration DEFAULT_DRAIN = java.time.Duration.ofSeconds(15);

    public static void main(String[] args) {
        Path configFile = null;
        Path logDir = null;
        boolean validateOnly = false;
        java.time.Duration drainTimeout = DEFAULT_DRAIN;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "-c", "--config" -> configFile = Path.of(need(args, ++i, "--config"));
                case "--drain-timeout" -> drainTimeout = java.time.Duration.ofMillis(
                        (long) (Double.parseDouble(need(args, ++i, "--drain-timeout")) * 1000));
                case "--log-dir" -> logDir = Path.of(need(args, ++i, "--log-dir"));
                case "--validate" -> validateOnly = true;
                case "--upgrade" -> System.setProperty("remora.upgrade", "true"); // read by the upgrade module
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    return;
                }
                default -> {
                    System.err.println("remora: unknown argument " + args[i] + "\n" + USAGE);
                    System.exit(64);
                }
            }
        }
        if (configFile == null) {
            System.err.println("remora: --config <file> is required\n" + USAGE);
            System.exit(64);
        }
        SidecarConfig cfg;
        try {
            cfg = ConfigLoader.load(configFile);
        } catch (ConfigException e) {
            System.err.println("remora: invalid config " + configFile + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        Sidecar sidecar;
        try {
            if (validateOnly) {
                validate(cfg);
                System.out.println("remora: config " + configFile + " is valid");
                return;
            }
            sidecar = start(cfg, new Options(logDir, true, configFile.toString()));
        } catch (ConfigException e) {
            System.err.println("remora: invalid config " + configFile + ": " + e.getMessage());
            System.exit(2);
            return;
        } catch (Exception e) {
            System.err.println("remora: cannot start: " + e.getMessage());
            e.printStackTrace();
            System.exit(1);
            return;
        }
        sidecar.drainTimeout = drainTimeout;
        runUntilSignalled(sidecar, drainTimeout);
    }

    /**
     * SIGTERM/SIGINT: drain (not ready, stop accepting, finish in-flight requests, close connections after their last
     * response) for at most {@code drainTimeout}, then exit 0. A second signal exits at once. The event-loop threads
     * are daemons, so the main thread holds the process up until then.
     */
    private static void runUntilSignalled(Sidecar sidecar, java.time.Duration drainTimeout) {
        java.util.concurrent.CountDownLatch exited = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean terminating = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable shutdown = () -> {
            if (!terminating.compareAndSet(false, true)) {
                startup.info("second signal: exiting now");
                sidecar.logManager().stop();
                Runtime.getRuntime().halt(130);
            }
            Thread t = new Thread(() -> {
                try {
                    startup.info("signal received: draining (at most {} ms)", drainTimeout.toMillis());
                    sidecar.drain(drainTimeout);
                    sidecar.close();
                    startup.info("stopped");
                } finally {
                    sidecar.logManager().stop();
                    exited.countDown();
                }
            }, "remora-drain");
            t.setDaemon(true);
            t.start();
        };
        try {
            sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> shutdown.run());
            sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> shutdown.run());
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                sidecar.drain(drainTimeout);
                sidecar.close();
                sidecar.logManager().stop();
            }, "remora-shutdown"));
        }
        try {
            exited.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        System.exit(0);
    }



    private static void validateMetrics(SidecarConfig.Metrics m) throws ConfigException {
        if (m == null) {
            return;
        }
        if (m.port() != null && (m.port() < 0 || m.port() > 65535)) {
            throw new ConfigException("metrics.port", "must be between 0 and 65535, was " + m.port());
        }
        if (m.maxServiceLabels() != null && m.maxServiceLabels() < 1) {
            throw new ConfigException("metrics.max_service_labels", "must be >= 1, was " + m.maxServiceLabels());
        }
        if (m.istioMaxLabelSets() != null && m.istioMaxLabelSets() < 1) {
            throw new ConfigException("metrics.istio_max_label_sets", "must be >= 1, was " + m.istioMaxLabelSets());
        }
        if (m.digestQueue() != null && (m.digestQueue() < 1 || m.digestQueue() > DigestLog.MAX_CAPACITY)) {
            throw new ConfigException("metrics.digest_queue", "must be between 1 and " + DigestLog.MAX_CAPACITY
                    + " (entries are preallocated), was " + m.digestQueue());
        }
    }

    /** The dedicated metrics port, if configured and bound. */
    public InetSocketAddress metricsAddress() {
        return metricsServer.address();
    }

    // ---------------------------------------------------------------- the admin API's view

    /** The engine's feature switches on MOSN's /api/v1/features (plugins add theirs with registerFeature). */
    private void registerCoreFeatures() {
        admin.registerFeature("EpollTransport", () -> Transport.get().isEpoll());
        admin.registerFeature("TransparentInterception", () -> current(s -> s.listeners().values().stream()
                .anyMatch(ListenerSpec::transparent)));
        admin.registerFeature("ActiveHealthCheck", () -> current(s -> s.clusters().values().stream()
                .anyMatch(c -> c.healthCheck() != null)));
        admin.registerFeature("FaultIsolation", () -> current(s -> s.clusters().values().stream()
                .anyMatch(c -> c.outlier() != null)));
        admin.registerFeature("DedicatedMetricsPort", () -> metricsServer.address() != null);
        admin.registerFeature("AdminToken", admin::protectedByToken);
        admin.registerFeature("AdminUnixSocket", () -> admin.unixSocket() != null);
    }

    private boolean current(java.util.function.Predicate<ConfigSnapshot> p) {
        ConfigSnapshot s = config.current();
        return s != null && p.test(s);
    }

    private ServerState state() {
        if (closed || draining || healthCheckFailed) {
            return ServerState.DRAINING;
        }
        if (!listeners.serving()) {
            return ServerState.PRE_INITIALIZING;
        }
        for (java.util.function.BooleanSupplier check : readinessChecks.values()) {
            if (!check.getAsBoolean()) {
                return ServerState.INITIALIZING;
            }
        }
        return ServerState.LIVE;
    }

    /**
     * Envoy's drain_listeners: stops accepting (open connections stay); with {@code graceful}, each open connection
     * of those listeners is also asked to close after its in-flight requests, as the SIGTERM drain does.
     */
    private List<String> stopListeners(boolean inboundOnly, boolean graceful) {
        List<String> stopped = new ArrayList<>();
        for (ListenerSlot slot : listeners.slots()) {
            if (inboundOnly && slot.spec().direction() != Direction.INBOUND) {
                continue;
            }
            stoppedByAdmin.add(slot.name());
            listeners.setAccepting(slot.name(), false);
            if (graceful) {
                for (Channel ch : slot.connections()) {
                    ch.eventLoop().execute(() -> {
                        ConnectionHandoff h =
                                ConnectionHandoff.find(ch.pipeline());
                        if (h != null) {
                            h.closeGracefully();
                        } else {
                            ch.close();
                        }
                    });
                }
            }
            stopped.add(slot.name());
        }
        startup.info("admin drain_listeners{}{}: stopped accepting on {}", inboundOnly ? " (inbound only)" : "",
                graceful ? " (graceful)" : "", stopped);
        return stopped;
    }

    private List<AdminHost.Plugin> plugins() {
        List<AdminHost.Plugin> l = new ArrayList<>();
        for (Protocol p : protocols.all()) {
            l.add(new AdminHost.Plugin("protocol", p.name(), p.getClass().getName()));
        }
        filters.forEach((type, f) -> l.add(new AdminHost.Plugin("filter", type,
                f.getClass().getName())));
        ServiceLoader.load(HostSelectorFactory.class).stream().forEach(p ->
                l.add(new AdminHost.Plugin("host_selector", p.get().key(), p.type().getName())));
        for (SidecarExtension e : extensions) {
            l.add(new AdminHost.Plugin("extension", e.name(), e.getClass().getName()));
        }
        return l;
    }

    /** This build's version: the jar's Maven metadata, or "dev" when run from classes (tests, IDE). */
    static String version() {
        try (java.io.InputStream in = Sidecar.class.getResourceAsStream(
                "/META-INF/maven/io.remora/proxy-core/pom.properties")) {
            if (in != null) {
                java.util.Properties p = new java.util.Properties();
                p.load(in);
                return p.getProperty("version", "dev");
            }
        } catch (java.io.IOException e) {
            // fall through: the version is informational
        }
        String v = Sidecar.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    /** The running sidecar as the admin endpoints see it (kept off Sidecar's own public surface). */
    private final class AdminView implements AdminHost {
        private final String version = version();

        @Override
        public LogManager logs() {
            return logs;
        }

        @Override
        public ConfigManager config() {
            return config;
        }

        @Override
        public ListenerManager listeners() {
            return listeners;
        }

        @Override
        public PrometheusMeterRegistry metrics() {
            return metrics;
        }

        @Override
        public AdminServer adminServer() {
            return admin;
        }

        @Override
        public SidecarConfig initialConfig() {
            return initialConfig;
        }

        @Override
        public boolean ready() {
            return Sidecar.this.ready();
        }

        @Override
        public ServerState state() {
            return Sidecar.this.state();
        }

        @Override
        public void failHealthCheck(boolean failed) {
            if (healthCheckFailed != failed) {
                healthCheckFailed = failed;
                startup.info("admin: health check {}", failed ? "failed (not ready until /healthcheck/ok)" : "ok");
            }
        }

        @Override
        public boolean healthCheckFailed() {
            return healthCheckFailed;
        }

        @Override
        public List<String> stopListeners(boolean inboundOnly, boolean graceful) {
            return Sidecar.this.stopListeners(inboundOnly, graceful);
        }

        @Override
        public List<String> failingReadinessChecks() {
            return Sidecar.this.failingReadinessChecks();
        }

        @Override
        public List<Plugin> plugins() {
            return Sidecar.this.plugins();
        }

        @Override
        public Map<String, Boolean> features() {
            return admin.contributedFeatures();
        }

        @Override
        public StartOptions startOptions() {
            Options o = options;
            return new StartOptions(o.sourceName(), logs.dir(), drainTimeout, workerThreads,
                    Boolean.getBoolean("remora.upgrade"), version);
        }

        @Override
        public java.time.Instant startedAt() {
            return startedAt;
        }
    }

    private static void validate(SidecarConfig cfg) throws ConfigException {
        validateMetrics(cfg.metrics());
        io.remora.core.limits.Limits.compile(cfg.limits());
        io.remora.core.limits.OverloadManager.Config.compile(cfg.overload());
        Map<String, StreamFilterFactory> filters = new LinkedHashMap<>();
        for (StreamFilterFactory f : ServiceLoader.load(StreamFilterFactory.class)) {
            filters.put(f.type(), f);
        }
        new ConfigCompiler(ProtocolRegistry.load(), filters, new HostRegistry(), null).compile(cfg, 1, "validation");
    }

    private static String need(String[] args, int i, String flag) {
        if (i >= args.length) {
            System.err.println("remora: " + flag + " needs a value\n" + USAGE);
            System.exit(64);
        }
        return args[i];
    }

    private static final String USAGE = """
            usage: remora --config <file.json> [--log-dir <dir>] [--validate] [--upgrade]
              --config    the sidecar config (JSON; see README "Configuration")
              --log-dir   directory for default.log and the other log files (overrides log.dir)
              --validate  check the config and exit (0 = valid, 2 = invalid)
              --drain-timeout <seconds>  on SIGTERM, how long to let in-flight requests finish (default 15)
              --upgrade   take over listeners and connections from the running sidecar (upgrade module; see
                          upgrade/README.md); without an old sidecar to take over from, start normally""";
}
