package io.remora.core;

/**
 * A plugin that runs beside the engine (xDS client, upgrade, rule admin endpoints), found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/io.remora.core.SidecarExtension}).
 * {@link #start} runs after the config is loaded and before listeners open; {@link #started} once serving; {@link #stop} at shutdown.
 */
public interface SidecarExtension {

    /** A short name for logs. */
    String name();

    void start(SidecarContext context) throws Exception;

    /** Called once the listeners and the admin port are serving (the upgrade module confirms its takeover here). */
    default void started() throws Exception {
    }

    default void stop() {
    }
}
