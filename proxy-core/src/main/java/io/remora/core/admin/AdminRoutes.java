package io.remora.core.admin;

import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Registration of admin endpoints, and the SPI through which a plugin adds to the compatibility views: a feature
 * switch on MOSN's {@code /api/v1/features}, a stat on Envoy's {@code /stats}. Paths are exact (e.g.
 * {@code /api/v1/get_loglevel}).
 */
public interface AdminRoutes {

    /** @param method {@code GET}, {@code POST}, ... or {@code *} for any */
    void register(String method, String path, AdminHandler handler);

    /** As {@link #register(String, String, AdminHandler)}, with the one-line description {@code /help} shows. */
    default void register(String method, String path, String help, AdminHandler handler) {
        register(method, path, handler);
    }

    /** Publishes feature switch {@code name} (MOSN style, e.g. {@code XdsFreeze}) on {@code /api/v1/features}. */
    default void registerFeature(String name, BooleanSupplier enabled) {
    }

    /**
     * Publishes {@code name} (Envoy style, e.g. {@code cluster_manager.cds.update_success}) on {@code /stats}, for
     * tools that read Envoy's well-known stats; meters registered with Micrometer appear there by themselves.
     */
    default void registerStat(String name, LongSupplier value) {
    }
}
