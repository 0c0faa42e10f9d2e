package io.remora.filters.condition;

import io.remora.core.protocol.RequestHeaders;

/**
 * Trace context values for routing conditions ({@code "source":"trace"}): {@code trace_id} and {@code rpc_id} as the
 * codec reads them; any other key is a SOFA tracer penetration attribute (baggage), carried as
 * {@code k1=v1&k2=v2} in the {@code rpc_trace_context.sofaPenAttrs} header (new tracer) or {@code sofaPenAttrs} (old).
 */
final class TraceValues {

    private TraceValues() {
    }

    static String read(RequestHeaders r, String key) {
        switch (key) {
            case "trace_id":
                return r.traceId();
            case "rpc_id":
                return r.rpcId();
            default:
                String attrs = r.header("rpc_trace_context.sofaPenAttrs");
                if (attrs == null) {
                    attrs = r.header("sofaPenAttrs");
                }
                return attrs == null ? null : lookup(attrs, key);
        }
    }

    /** The value of {@code key} in {@code k1=v1&k2=v2}, without splitting the whole string. */
    static String lookup(String attrs, String key) {
        int from = 0;
        int n = attrs.length();
        while (from < n) {
            int amp = attrs.indexOf('&', from);
            int end = amp < 0 ? n : amp;
            int eq = attrs.indexOf('=', from);
            if (eq > from && eq < end && eq - from == key.length() && attrs.startsWith(key, from)) {
                return attrs.substring(eq + 1, end);
            }
            from = end + 1;
        }
        return null;
    }
}
