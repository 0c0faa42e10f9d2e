package io.remora.http;

import io.remora.core.protocol.ProtocolOptions;

/**
 * An HTTP listener's limits and switches, from the listener's {@code options} map (strings, snake_case keys; see
 * docs/http.md). Parsed once per config snapshot.
 */
record HttpSettings(
        int maxInitialLineBytes,
        int maxHeaderBytes,
        int maxHeaders,
        long maxRequestBodyBytes,
        long requestHeaderTimeoutMillis,
        boolean xForwarded,
        String requestIdHeader,
        int maxUpgradeBodyBytes,
        /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: streams one caller may have open. */
        int http2MaxConcurrentStreams,
        /** HTTP/2 RST_STREAM frames a caller may send per window before GOAWAY ENHANCE_YOUR_CALM (rapid reset). */
        int http2MaxResetsPerWindow,
        int http2ResetWindowSeconds) {

    static HttpSettings from(ProtocolOptions o) {
        return new HttpSettings(
                intOption(o, "max_initial_line_bytes", 4096),
                intOption(o, "max_header_bytes", 8192),
                intOption(o, "max_headers", 100),
                longOption(o, "max_request_body_bytes", 0),
                longOption(o, "request_header_timeout_ms", 10_000),
                !"off".equals(o.extra("x_forwarded", "on")),
                o.extra("request_id_header", "x-request-id").trim().toLowerCase(java.util.Locale.ROOT),
                intOption(o, "max_upgrade_body_bytes", 1 << 20),
                positive(o, "http2_max_concurrent_streams", 1000),
                positive(o, "http2_max_resets_per_window", 200),
                positive(o, "http2_reset_window_seconds", 30));
    }

    /** A limit that must stay on: 0 would switch Netty's protection off. */
    private static int positive(ProtocolOptions o, String key, int dflt) {
        int v = intOption(o, key, dflt);
        if (v < 1) {
            throw new IllegalArgumentException("option " + key + " must be >= 1, was " + v);
        }
        return v;
    }

    private static int intOption(ProtocolOptions o, String key, int dflt) {
        long v = longOption(o, key, dflt);
        if (v > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("option " + key + " is too large: " + v);
        }
        return (int) v;
    }

    private static long longOption(ProtocolOptions o, String key, long dflt) {
        String s = o.extra(key, null);
        if (s == null) {
            return dflt;
        }
        try {
            long v = Long.parseLong(s.trim());
            if (v < 0) {
                throw new IllegalArgumentException("option " + key + " must be >= 0, was " + s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option " + key + " must be a number, was \"" + s + "\"");
        }
    }
}
