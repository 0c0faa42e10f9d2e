package io.remora.core.health;

import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.ScheduledFuture;
import io.remora.core.SidecarContext;
import io.remora.core.SidecarExtension;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.HealthCheckPolicy;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.OutlierDetector;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.transport.Transport;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * Runs cluster health off the request path on one small event loop of its own: active health checks per host
 * (TCP connect or protocol heartbeat, with healthy/unhealthy thresholds) and the fault-isolation evaluation once a
 * second. Reconciles with every published snapshot: hosts added get a checker, hosts removed lose theirs (in-flight
 * requests to them are untouched). The loop is created only when some cluster needs it.
 */
public final class HealthService implements SidecarExtension {

    static final long OUTLIER_EVALUATION_MILLIS = 1000;

    private SidecarContext context;
    private EventLoopGroup group;
    private Logger healthLog;
    private OutlierDetector outliers;
    private final Map<Host, HostCheck> checks = new HashMap<>();
    private volatile ConfigSnapshot snapshot;
    private ScheduledFuture<?> outlierTask;
    private AppHeartbeat appHeartbeat;

    @Override
    public String name() {
        return "cluster-health";
    }

    @Override
    public void start(SidecarContext ctx) {
        this.context = ctx;
        this.healthLog = ctx.logs().fileLogger("health_check.log", "INFO");
        this.outliers = new OutlierDetector(ctx.logs().fileLogger("fault_tolerance.log", "INFO"));
        this.appHeartbeat = new AppHeartbeat(ctx, this::group);
        ctx.config().subscribe(this::onSnapshot);
    }

    synchronized EventLoopGroup group() {
        if (group == null) {
            group = Transport.get().newGroup(1, "remora-health");
        }
        return group;
    }

    synchronized void onSnapshot(ConfigSnapshot snap) {
        this.snapshot = snap;
        Set<Host> wanted = new HashSet<>();
        boolean outlierWanted = false;
        for (Cluster c : snap.clusters().values()) {
            outlierWanted |= c.outlier() != null;
            HealthCheckPolicy p = c.healthCheck();
            if (p == null) {
                continue;
            }
            RpcCodec codec = p.type().equals("heartbeat") ? c.codecFor(null) : null;
            for (Host h : c.hosts()) {
                wanted.add(h);
                HostCheck existing = checks.get(h);
                if (existing != null && existing.policy.equals(p) && existing.codec == codec) {
                    continue;
                }
                if (existing != null) {
                    existing.stop();
                }
                HostCheck hc = new HostCheck(h, p, codec);
                checks.put(h, hc);
                hc.schedule(0);
            }
        }
        checks.entrySet().removeIf(e -> {
            if (!wanted.contains(e.getKey())) {
                e.getValue().stop();
                e.getKey().setFailedHealthCheck(false);
                return true;
            }
            return false;
        });
        if (outlierWanted && outlierTask == null) {
            outlierTask = group().next().scheduleWithFixedDelay(this::evaluateOutliers, OUTLIER_EVALUATION_MILLIS,
                    OUTLIER_EVALUATION_MILLIS, TimeUnit.MILLISECONDS);
        }
        appHeartbeat.onSnapshot(snap);
    }

    private void evaluateOutliers() {
        ConfigSnapshot snap = snapshot;
        if (snap == null) {
            return;
        }
        long now = System.nanoTime();
        for (Cluster c : snap.clusters().values()) {
            try {
                outliers.evaluate(c, now);
            } catch (RuntimeException e) {
                healthLog.error("outlier evaluation of cluster {} failed", c.name(), e);
            }
        }
    }

    @Override
    public synchronized void stop() {
        checks.values().forEach(HostCheck::stop);
        checks.clear();
        if (appHeartbeat != null) {
            appHeartbeat.stop();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
        }
    }

    /** The periodic checker of one host. */
    private final class HostCheck {
        final Host host;
        final HealthCheckPolicy policy;
        final RpcCodec codec;
        final Thresholds thresholds;
        volatile boolean stopped;

        HostCheck(Host host, HealthCheckPolicy policy, RpcCodec codec) {
            this.host = host;
            this.policy = policy;
            this.codec = codec;
            this.thresholds = new Thresholds(policy.healthyThreshold(), policy.unhealthyThreshold());
            if (host.failedHealthCheck()) {
                thresholds.record(false);
                for (int i = 1; i < policy.unhealthyThreshold(); i++) {
                    thresholds.record(false);
                }
            }
        }

        void schedule(long delayMillis) {
            if (!stopped) {
                group().next().schedule(this::probe, delayMillis, TimeUnit.MILLISECONDS);
            }
        }

        void probe() {
            if (stopped) {
                return;
            }
            ConfigSnapshot snap = snapshot;
            Cluster cluster = snap == null ? null : snap.cluster(host.cluster());
            // a heartbeat to a TLS host speaks TLS like the requests do; a TCP check only connects
            java.util.function.Consumer<io.netty.channel.Channel> tls = codec == null || cluster == null
                    || cluster.tls() == null ? null
                    : ch -> io.remora.core.tls.TransportSockets.install(ch, cluster, host);
            Probe.run(group(), host.socketAddress(), codec, policy.timeoutMillis(), tls, ok -> {
                if (stopped) {
                    return;
                }
                if (thresholds.record(ok)) {
                    host.setFailedHealthCheck(!thresholds.up());
                    if (thresholds.up()) {
                        healthLog.info("cluster {} host {} is healthy again", host.cluster(), host.address());
                    } else {
                        healthLog.warn("cluster {} host {} failed {} health check(s) in a row ({}), taken out of "
                                + "load balancing", host.cluster(), host.address(), policy.unhealthyThreshold(),
                                policy.type());
                    }
                }
                schedule(policy.intervalMillis());
            });
        }

        void stop() {
            stopped = true;
        }
    }
}
