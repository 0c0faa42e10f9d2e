package io.remora.core;

/**
 * A plugin that runs beside the engine (xDS client, upgrade, rule admin endpoints), found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.remora.core.SidecarExtension}).
 * {@link #start} runs after the config is loaded and before listeners open; {@link #stop} at shutdown.
 */
public interface SidecarExtension {

    /** A short name for logs. */
    String name();

    void start(SidecarContext context) throws Exception;

    default void stop() {
    }
}
