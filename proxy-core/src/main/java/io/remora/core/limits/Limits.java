package io.remora.core.limits;

import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;

/**
 * The process-wide limits on what callers can make the sidecar hold, compiled from the config's {@code limits}
 * section with safe defaults (read once at start). Protocol-specific bounds (frame and header sizes, HTTP/2 streams
 * and resets) live with their listener; docs/limits.md lists them all.
 *
 * @param maxConnections downstream connections across all listeners
 * @param maxConnectionsPerListener downstream connections on one listener
 * @param acceptPerSecond new connections per second per listener (bursts of one second's worth); 0 = unlimited
 * @param maxRequestsPerConnection requests in flight on one downstream connection (RPC pipelining, HTTP/2 streams)
 */
public record Limits(int maxConnections, int maxConnectionsPerListener, int acceptPerSecond,
                     int maxRequestsPerConnection) {

    public static final int DEFAULT_MAX_CONNECTIONS = 32_768;
    public static final int DEFAULT_ACCEPT_PER_SECOND = 10_000;
    public static final int DEFAULT_MAX_REQUESTS_PER_CONNECTION = 10_000;

    public static final Limits DEFAULTS = new Limits(DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS,
            DEFAULT_ACCEPT_PER_SECOND, DEFAULT_MAX_REQUESTS_PER_CONNECTION);

    /** The compiled limits of {@code c} (null: the defaults); invalid values throw with the field path. */
    public static Limits compile(SidecarConfig.Limits c) throws ConfigException {
        if (c == null) {
            return DEFAULTS;
        }
        int max = positive(c.maxConnections(), DEFAULT_MAX_CONNECTIONS, "limits.max_connections");
        int perListener = positive(c.maxConnectionsPerListener(), max, "limits.max_connections_per_listener");
        int rate = c.acceptPerSecond() == null ? DEFAULT_ACCEPT_PER_SECOND : c.acceptPerSecond();
        if (rate < 0 || rate > 1_000_000_000) {
            throw new ConfigException("limits.accept_per_second", "must be between 0 (unlimited) and 1000000000, was "
                    + rate);
        }
        int requests = positive(c.maxRequestsPerConnection(), DEFAULT_MAX_REQUESTS_PER_CONNECTION,
                "limits.max_requests_per_connection");
        return new Limits(max, perListener, rate, requests);
    }

    private static int positive(Integer v, int dflt, String path) throws ConfigException {
        if (v == null) {
            return dflt;
        }
        if (v < 1) {
            throw new ConfigException(path, "must be >= 1, was " + v);
        }
        return v;
    }
}
