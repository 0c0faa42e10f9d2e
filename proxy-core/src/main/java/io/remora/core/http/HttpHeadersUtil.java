package io.remora.core.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/** Header rules of a proxy: hop-by-hop removal, forwarding headers, request ids. */
final class HttpHeadersUtil {

    /** Netty's HTTP/2 <-> HTTP/1 conversion headers: never forwarded as such. */
    static final String EXT_PREFIX = "x-http2-";
    static final String SCHEME_EXT = "x-http2-scheme";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private HttpHeadersUtil() {
    }

    /**
     * Removes hop-by-hop headers (RFC 9110 §7.6.1): those named by {@code Connection}, {@code Connection} itself,
     * {@code Keep-Alive}, {@code Transfer-Encoding}, {@code Upgrade}, every {@code Proxy-*}, and {@code TE} unless it
     * is {@code trailers} (gRPC needs that one end to end), plus Netty's {@code x-http2-*} conversion headers.
     */
    private static final io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames[] EXT_NAMES =
            io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames.values();

    static void stripHopByHop(HttpHeaders h) {
        if (h.contains(HttpHeaderNames.CONNECTION)) { // most requests have none: no list, no split
            for (String value : h.getAll(HttpHeaderNames.CONNECTION)) {
                for (String token : value.split(",")) {
                    String t = token.trim();
                    if (!t.isEmpty() && !t.equalsIgnoreCase("te")) {
                        h.remove(t);
                    }
                }
            }
            h.remove(HttpHeaderNames.CONNECTION);
        }
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove(HttpHeaderNames.TRANSFER_ENCODING);
        h.remove(HttpHeaderNames.UPGRADE);
        h.remove("http2-settings");
        String te = h.get(HttpHeaderNames.TE);
        if (te != null) {
            if (te.toLowerCase(Locale.ROOT).contains("trailers")) {
                h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
            } else {
                h.remove(HttpHeaderNames.TE);
            }
        }
        // the HTTP/2 converter's own x-http2-* names, on every h2 request: removed by name, so the scan below
        // (building a name set) runs only for the rare proxy-* or unknown x-http2-* header
        for (io.netty.handler.codec.http2.HttpConversionUtil.ExtensionHeaderNames e : EXT_NAMES) {
            h.remove(e.text());
        }
        Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
        boolean any = false;
        while (it.hasNext()) {
            CharSequence name = it.next().getKey();
            if (startsWithIgnoreCase(name, "proxy-") || startsWithIgnoreCase(name, EXT_PREFIX)) {
                any = true;
                break;
            }
        }
        if (any) {
            List<String> doomed = new java.util.ArrayList<>();
            for (String name : h.names()) {
                if (startsWithIgnoreCase(name, "proxy-") || startsWithIgnoreCase(name, EXT_PREFIX)) {
                    doomed.add(name);
                }
            }
            doomed.forEach(h::remove);
        }
    }

    /**
     * The same rules for an h2 header block passed through as is: one scan without allocation; the (rare) offending
     * fields are removed afterwards. The codec already rejects connection-specific fields, this catches the rest.
     */
    static void stripHopByHop(io.netty.handler.codec.http2.Http2Headers h) {
        java.util.List<CharSequence> doomed = null;
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence n = e.getKey();
            if (n.length() == 0 || n.charAt(0) == ':') {
                continue;
            }
            char c = n.charAt(0);
            boolean bad;
            if (c == 't') {
                bad = io.netty.util.AsciiString.contentEquals("te", n)
                        ? !io.netty.util.AsciiString.contentEqualsIgnoreCase("trailers", e.getValue())
                        : io.netty.util.AsciiString.contentEquals("transfer-encoding", n);
            } else if (c == 'p') {
                bad = startsWithIgnoreCase(n, "proxy-");
            } else if (c == 'x') {
                bad = startsWithIgnoreCase(n, EXT_PREFIX);
            } else if (c == 'c') {
                bad = io.netty.util.AsciiString.contentEquals("connection", n);
            } else if (c == 'k' || c == 'u' || c == 'h') {
                bad = io.netty.util.AsciiString.contentEquals("keep-alive", n)
                        || io.netty.util.AsciiString.contentEquals("upgrade", n)
                        || io.netty.util.AsciiString.contentEquals("http2-settings", n);
            } else {
                continue;
            }
            if (bad) {
                if (doomed == null) {
                    doomed = new java.util.ArrayList<>(2);
                }
                doomed.add(n);
            }
        }
        if (doomed != null) {
            for (CharSequence n : doomed) {
                h.remove(n);
            }
        }
    }

    static boolean startsWithIgnoreCase(CharSequence s, String prefix) {
        if (s.length() < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (Character.toLowerCase(s.charAt(i)) != prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** 128 random bits as 32 hex characters. */
    static String newRequestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        char[] c = new char[32];
        long a = r.nextLong();
        long b = r.nextLong();
        for (int i = 0; i < 16; i++) {
            c[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xF];
            c[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xF];
        }
        return new String(c);
    }

    /** gRPC's {@code grpc-timeout} ({@code 1-8 digits + H/M/S/m/u/n}) in nanoseconds, or -1 if absent or invalid. */
    static long grpcTimeoutNanos(String v) {
        if (v == null || v.length() < 2 || v.length() > 9) {
            return -1;
        }
        long n = 0;
        for (int i = 0; i < v.length() - 1; i++) {
            char ch = v.charAt(i);
            if (ch < '0' || ch > '9') {
                return -1;
            }
            n = n * 10 + (ch - '0');
        }
        return switch (v.charAt(v.length() - 1)) {
            case 'H' -> n * 3_600_000_000_000L;
            case 'M' -> n * 60_000_000_000L;
            case 'S' -> n * 1_000_000_000L;
            case 'm' -> n * 1_000_000L;
            case 'u' -> n * 1_000L;
            case 'n' -> n;
            default -> -1;
        };
    }
}
