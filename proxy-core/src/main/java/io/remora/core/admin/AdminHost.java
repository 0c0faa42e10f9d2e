package io.remora.core.admin;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.remora.core.config.ConfigManager;
import io.remora.core.config.SidecarConfig;
import io.remora.core.log.LogManager;
import io.remora.core.proxy.ListenerManager;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The running sidecar as the admin endpoints see it: what they read and the few actions they may take. Implemented by
 * {@code Sidecar}; every method is called on the admin thread, never on a request event loop.
 */
public interface AdminHost {

    LogManager logs();

    ConfigManager config();

    ListenerManager listeners();

    PrometheusMeterRegistry metrics();

    AdminServer adminServer();

    /** The config the process started with (the "bootstrap"), or null before start. */
    SidecarConfig initialConfig();

    /** Ready: every listener of the first config serves, every readiness check passes, not draining. */
    boolean ready();

    ServerState state();

    /** Envoy's {@code /healthcheck/fail} ({@code true}) and {@code /healthcheck/ok} ({@code false}). */
    void failHealthCheck(boolean failed);

    boolean healthCheckFailed();

    /**
     * Stops accepting on every listener (or the inbound ones only); with {@code graceful}, their open connections are
     * also asked to close after their in-flight requests. Returns the names of the listeners stopped.
     */
    List<String> stopListeners(boolean inboundOnly, boolean graceful);

    /** Names of readiness checks that currently fail. */
    List<String> failingReadinessChecks();

    /** The loaded plugins: protocols, stream filters, host selectors, extensions. */
    List<Plugin> plugins();

    /** The engine's own feature switches (MOSN's feature gates), plus the ones plugins registered. */
    Map<String, Boolean> features();

    /** How this process was started (Envoy's command_line_options). */
    StartOptions startOptions();

    Instant startedAt();

    /** A plugin found with {@link java.util.ServiceLoader}. */
    record Plugin(String kind, String name, String className) {
    }

    /**
     * @param configPath the config file, or the source name when started in-process
     * @param upgrade    started with {@code --upgrade}
     */
    record StartOptions(String configPath, Path logDir, Duration drainTimeout, int concurrency, boolean upgrade,
                        String version) {
    }
}
