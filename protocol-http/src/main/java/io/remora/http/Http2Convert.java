package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import java.util.Map;

/**
 * HTTP/1 objects <-> HTTP/2 header blocks, only where the two sides of an exchange speak different versions (an
 * h2 <-> h2 exchange passes its {@link Http2Headers} through untouched).
 */
final class Http2Convert {

    private static final AsciiString COOKIE = AsciiString.cached("cookie");

    private Http2Convert() {
    }

    /** The h2 request head as an HTTP/1.1 request (body follows; framing is decided by the caller). */
    static HttpRequest toHttp1Request(Http2Headers h) {
        CharSequence method = h.method();
        CharSequence path = h.path();
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1,
                HttpMethod.valueOf(method == null ? "GET" : method.toString()), path == null ? "/" : path.toString(),
                false);
        HttpHeaders out = r.headers();
        copyRegular(h, out);
        CharSequence authority = h.authority();
        if (authority != null && !out.contains(HttpHeaderNames.HOST)) {
            out.set(HttpHeaderNames.HOST, authority);
        }
        return r;
    }

    static HttpResponse toHttp1Response(Http2Headers h, int status) {
        HttpResponse r = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), false);
        copyRegular(h, r.headers());
        return r;
    }

    static LastHttpContent toHttp1Trailers(Http2Headers h) {
        LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, false);
        copyRegular(h, last.trailingHeaders());
        return last;
    }

    /** Regular (non-pseudo) fields; several {@code cookie} fields become one (RFC 9113 8.2.3). */
    private static void copyRegular(Http2Headers h, HttpHeaders out) {
        for (Map.Entry<CharSequence, CharSequence> e : h) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            if (COOKIE.contentEquals(name)) {
                String prev = out.get(HttpHeaderNames.COOKIE);
                out.set(HttpHeaderNames.COOKIE, prev == null ? e.getValue() : prev + "; " + e.getValue());
                continue;
            }
            out.add(name, e.getValue());
        }
    }

    /** An HTTP/1 head (request or response) as an h2 header block (hop-by-hop fields dropped, names lower case). */
    static Http2Headers toHttp2(HttpMessage m) {
        try {
            return HttpConversionUtil.toHttp2Headers(m, false);
        } catch (Exception e) {
            throw new IllegalArgumentException("cannot convert " + m + " to HTTP/2: " + e.getMessage(), e);
        }
    }

    static Http2Headers toHttp2Trailers(HttpHeaders trailers) {
        return HttpConversionUtil.toHttp2Headers(trailers, false);
    }

    /** {@code :status} as a number (-1 if missing or malformed). */
    static int status(Http2Headers h) {
        CharSequence s = h.status();
        if (s == null || s.length() != 3) {
            return -1;
        }
        int n = 0;
        for (int i = 0; i < 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    /** h2 trailers carried through the exchange's HTTP/1 body queue; turned into real trailers for an HTTP/1 side. */
    static final class Trailers extends DefaultLastHttpContent {
        final Http2Headers headers;

        Trailers(Http2Headers headers) {
            super(Unpooled.EMPTY_BUFFER, false);
            this.headers = headers;
        }
    }

    /** A body chunk of an h2 side as an HTTP/1 object (owns {@code data}). */
    static HttpContent content(ByteBuf data, boolean end) {
        return end ? new DefaultLastHttpContent(data, false) : new io.netty.handler.codec.http.DefaultHttpContent(data);
    }
}
