package io.remora.core;

import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.admin.AdminRoutes;
import io.remora.core.config.ConfigManager;
import io.remora.core.log.LogFiles;

/** What the running sidecar offers its plugins (filters, xDS client, upgrade). */
public interface SidecarContext {

    /** The current config snapshot, and the way to publish a new one. */
    ConfigManager config();

    /** Register admin endpoints (served on the admin port, off the request event loops). */
    AdminRoutes admin();

    /** The metrics registry (Prometheus-backed). */
    MeterRegistry metrics();

    /** The per-area log files under the log directory (default.log, flow-control.log, ...). */
    LogFiles logs();

    /** The local app this sidecar serves (config {@code node.app}), or null. */
    String localApp();

    /**
     * Adds a condition to readiness: the sidecar reports ready (admin {@code /ready}) only while every check is true
     * and its listeners are serving. E.g. the xDS client until the first full config is applied.
     */
    void addReadinessCheck(String name, java.util.function.BooleanSupplier check);

    /** The config this process was started with: available in {@link SidecarExtension#start}, before the first apply. */
    default io.remora.core.config.SidecarConfig initialConfig() {
        ConfigManager c = config();
        return c == null || c.current() == null ? null : c.current().source();
    }

    /** TLS material delivered at run time (SDS), by name; never part of the config snapshot. */
    default io.remora.core.tls.SecretStore secrets() {
        return null;
    }

    /** The engine's listeners: socket handoff hooks for the upgrade module (null where there is no engine). */
    default io.remora.core.proxy.ListenerManager listeners() {
        return null;
    }

    /** The admin server: socket handoff hooks for the upgrade module (null where there is none). */
    default io.remora.core.admin.AdminServer adminServer() {
        return null;
    }

    /** The dedicated metrics server (config {@code metrics.port}); null where there is none. */
    default io.remora.core.admin.AdminServer metricsServer() {
        return null;
    }

    /**
     * Stops ({@code false}) or resumes ({@code true}) accepting connections on listener {@code listener} by closing or
     * re-binding its socket on the same address; open connections are untouched. Blocks while binding; call off the
     * event loops. Returns false if there is no such listener or the bind failed.
     */
    default boolean setListenerAccepting(String listener, boolean accepting) {
        return false;
    }
}
