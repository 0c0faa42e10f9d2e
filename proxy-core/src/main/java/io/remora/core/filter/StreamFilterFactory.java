package io.remora.core.filter;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;

/**
 * A filter plugin, found with {@link java.util.ServiceLoader}
 * ({@code META-INF/services/io.remora.core.filter.StreamFilterFactory}). Listeners name filters by {@link #type()}.
 */
public interface StreamFilterFactory {

    /** The type name used in config, e.g. {@code "rate_limit"}. */
    String type();

    /**
     * Builds the filter for one listener from its JSON config. Invalid config throws {@link ConfigException} with the
     * path relative to {@code config} (the caller prefixes the listener's path).
     */
    StreamFilter create(JsonNode config, FilterContext context) throws ConfigException;
}
