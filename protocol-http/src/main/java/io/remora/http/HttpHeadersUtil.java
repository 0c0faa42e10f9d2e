package io.remora.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
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
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    private HttpHeadersUtil() {
    }

    /**
     * Trailers of decoded messages: every content-length body ends in a LastHttpContent whose (almost always empty)
     * trailer map Netty allocates eagerly; a 2-bucket table instead of 16 (same validation as Netty's trailers).
     */
    static final io.netty.handler.codec.http.HttpHeadersFactory SMALL_TRAILERS =
            new io.netty.handler.codec.http.HttpHeadersFactory() {
                private final io.netty.handler.codec.http.DefaultHttpHeadersFactory base =
                        io.netty.handler.codec.http.DefaultHttpHeadersFactory.trailersFactory();

                @Override
                public HttpHeaders newHeaders() {
                    return new SmallHeaders(base.getNameValidator(), base.getValueValidator());
                }

                @Override
                public HttpHeaders newEmptyHeaders() {
                    return base.newEmptyHeaders();
                }
            };

    private static final class SmallHeaders extends io.netty.handler.codec.http.DefaultHttpHeaders {
        SmallHeaders(io.netty.handler.codec.DefaultHeaders.NameValidator<CharSequence> names,
                     io.netty.handler.codec.DefaultHeaders.ValueValidator<CharSequence> values) {
            super(names, values, 2);
        }
    }

    /**
     * Removes hop-by-hop headers (RFC 9110 §7.6.1): those named by {@code Connection}, {@code Connection} itself,
     * {@code Keep-Alive}, {@code Transfer-Encoding}, {@code Upgrade}, every {@code Proxy-*}, and {@code TE} unless it
     * is {@code trailers} (gRPC needs that one end to end), plus Netty's {@code x-http2-*} conversion headers.
     */
    static void stripHopByHop(HttpHeaders h) {
        // one scan, no allocation unless something is to be removed (a response's "Connection: keep-alive" is)
        List<CharSequence> doomed = null;
        Iterator<Map.Entry<CharSequence, CharSequence>> it = h.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence n = e.getKey();
            if (n.length() == 0) {
                continue;
            }
            char c = Character.toLowerCase(n.charAt(0));
            boolean bad;
            if (c == 'c') {
                bad = AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.CONNECTION, n);
                if (bad) {
                    doomed = connectionTokens(e.getValue(), doomed);
                }
            } else if (c == 't') {
                if (AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.TE, n)) {
                    continue; // handled below: kept as "trailers" when asked for
                }
                bad = AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING, n);
            } else if (c == 'k') {
                bad = AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.KEEP_ALIVE, n);
            } else if (c == 'u') {
                bad = AsciiString.contentEqualsIgnoreCase(HttpHeaderNames.UPGRADE, n);
            } else if (c == 'h') {
                bad = AsciiString.contentEqualsIgnoreCase("http2-settings", n);
            } else if (c == 'p') {
                bad = startsWithIgnoreCase(n, "proxy-");
            } else if (c == 'x') {
                bad = startsWithIgnoreCase(n, EXT_PREFIX); // Netty's HTTP/2 conversion headers among them
            } else {
                continue;
            }
            if (bad) {
                if (doomed == null) {
                    doomed = new java.util.ArrayList<>(4);
                }
                doomed.add(n);
            }
        }
        if (doomed != null) {
            for (int i = 0; i < doomed.size(); i++) {
                h.remove(doomed.get(i));
            }
        }
        String te = h.get(HttpHeaderNames.TE);
        if (te != null) {
            if (te.toLowerCase(Locale.ROOT).contains("trailers")) {
                h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
            } else {
                h.remove(HttpHeaderNames.TE);
            }
        }
    }

    /** The header names a {@code Connection} value lists (besides te, close and keep-alive, which need no removal). */
    private static List<CharSequence> connectionTokens(CharSequence v, List<CharSequence> doomed) {
        int len = v.length();
        int i = 0;
        while (i < len) {
            int comma = i;
            while (comma < len && v.charAt(comma) != ',') {
                comma++;
            }
            int s = i;
            int e = comma;
            while (s < e && isSpace(v.charAt(s))) {
                s++;
            }
            while (e > s && isSpace(v.charAt(e - 1))) {
                e--;
            }
            if (e > s) {
                CharSequence t = v.subSequence(s, e);
                if (!AsciiString.contentEqualsIgnoreCase("te", t) && !AsciiString.contentEqualsIgnoreCase("close", t)
                        && !AsciiString.contentEqualsIgnoreCase("keep-alive", t)) {
                    if (doomed == null) {
                        doomed = new java.util.ArrayList<>(4);
                    }
                    doomed.add(t.toString());
                }
            }
            i = comma + 1;
        }
        return doomed;
    }

    private static boolean isSpace(char c) {
        return c == ' ' || c == '\t';
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

    /** 128 random bits as 32 hex characters (an AsciiString over its own bytes: no char[] and String copies). */
    static AsciiString newRequestId() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        byte[] c = new byte[32];
        long a = r.nextLong();
        long b = r.nextLong();
        for (int i = 0; i < 16; i++) {
            c[i] = HEX[(int) (a >>> (60 - 4 * i)) & 0xF];
            c[16 + i] = HEX[(int) (b >>> (60 - 4 * i)) & 0xF];
        }
        return new AsciiString(c, false);
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
