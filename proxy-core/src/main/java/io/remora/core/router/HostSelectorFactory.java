package io.remora.core.router;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.SidecarContext;
import io.remora.core.cluster.Cluster;
import io.remora.core.config.ConfigException;
import java.util.Map;

/**
 * SPI ({@code META-INF/services/io.remora.core.router.HostSelectorFactory}) through which a plugin module (label
 * routing lives in {@code filters}) contributes host selection without the core importing it. The compiler calls it
 * with the plugin's {@code extensions} section on every config compile; errors refuse the config.
 */
public interface HostSelectorFactory {

    /** The key under {@code extensions} this factory reads (e.g. {@code label_routing}). */
    String key();

    /**
     * Compiles {@code config} (never null) against the snapshot's clusters. Returns null when it selects nothing.
     * {@code sidecar} is null when compiling for validation only.
     */
    HostSelector compile(JsonNode config, Map<String, Cluster> clusters, SidecarContext sidecar) throws ConfigException;
}
