package io.remora.core;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.channel.EventLoopGroup;
import io.remora.core.admin.AdminRoutes;
import io.remora.core.admin.AdminServer;
import io.remora.core.admin.CoreAdminEndpoints;
import io.remora.core.cluster.HostRegistry;
import io.remora.core.config.ConfigCompiler;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigLoader;
import io.remora.core.config.ConfigManager;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.SidecarConfig;
import io.remora.core.digest.DigestLog;
import io.remora.core.metrics.ProcessMetrics;
import io.remora.core.metrics.ProxyMetrics;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.core.log.LogFiles;
import io.remora.core.log.LogManager;
import io.remora.core.protocol.ProtocolRegistry;
import io.remora.core.proxy.ListenerManager;
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

    private Sidecar(LogManager logs, int workerThreads, ProtocolRegistry protocols,
                    Map<String, StreamFilterFactory> filters, long startNanos, SidecarConfig.Metrics m) {
        this.logs = logs;
        this.startNanos = startNanos;
        this.workers = Transport.get().newGroup(workerThreads, "remora-worker");
        ProcessMetrics.bind(metrics, workers);
        ProxyMetrics proxyMetrics = new ProxyMetrics(metrics, m == null || m.maxServiceLabels() == null
                ? ProxyMetrics.DEFAULT_MAX_SERVICE_LABELS : m.maxServiceLabels());
        this.digest = new DigestLog(logs, metrics, m == null || m.digestQueue() == null
                ? DigestLog.DEFAULT_CAPACITY : m.digestQueue());
        this.listeners = new ListenerManager(workers, proxyMetrics, digest);
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
        Sidecar s = new Sidecar(logs, workers, protocols, filters, t0, cfg.metrics());
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
        new CoreAdminEndpoints(logs, config, listeners, metrics, this::ready).registerOn(admin);
        // For pre-stop hooks and Jobs: the same drain as SIGTERM, without exiting; GET shows progress.
        admin.register("POST", "/api/v1/drain", r -> {
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
        InetSocketAddress a = admin.start(snap.adminAddress());
        startup.info("admin API on http://{}:{}", a.getAddress().getHostAddress(), a.getPort());
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
        if (closed || draining || !listeners.serving()) {
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
        return !(accepting && (draining || closed)) && listeners.setAccepting(listener, accepting);
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
        if (m.digestQueue() != null && (m.digestQueue() < 1 || m.digestQueue() > DigestLog.MAX_CAPACITY)) {
            throw new ConfigException("metrics.digest_queue", "must be between 1 and " + DigestLog.MAX_CAPACITY
                    + " (entries are preallocated), was " + m.digestQueue());
        }
    }

    /** The dedicated metrics port, if configured and bound. */
    public InetSocketAddress metricsAddress() {
        return metricsServer.address();
    }

    private static void validate(SidecarConfig cfg) throws ConfigException {
        validateMetrics(cfg.metrics());
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
