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
        int maxUpgradeBodyBytes) {

    static HttpSettings from(ProtocolOptions o) {
        return new HttpSettings(
                intOption(o, "max_initial_line_bytes", 4096),
                intOption(o, "max_header_bytes", 8192),
                intOption(o, "max_headers", 100),
                longOption(o, "max_request_body_bytes", 0),
                longOption(o, "request_header_timeout_ms", 10_000),
                !"off".equals(o.extra("x_forwarded", "on")),
                o.extra("request_id_header", "x-request-id").trim().toLowerCase(java.util.Locale.ROOT),
                intOption(o, "max_upgrade_body_bytes", 1 << 20));
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
