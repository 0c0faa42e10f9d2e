package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import io.netty.util.AsciiString;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The upstream HTTP/1.1 codec: Netty's {@code HttpClientCodec} semantics (a HEAD response has no body, a 200 to
 * CONNECT ends HTTP parsing) plus response header names taken from a table of common ones, byte for byte as received,
 * instead of a new {@link AsciiString} and byte[] per header per response.
 */
final class Http1ClientCodec extends CombinedChannelDuplexHandler<Http1ClientCodec.Decoder, Http1ClientCodec.Encoder> {

    /** Methods of the requests sent and not yet answered (one at a time per pooled link; bounded by that). */
    private final ArrayDeque<HttpMethod> methods = new ArrayDeque<>(2);
    private boolean done;

    Http1ClientCodec(HttpDecoderConfig config) {
        init(new Decoder(config), new Encoder());
    }

    final class Encoder extends HttpRequestEncoder {
        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest r && !done) {
                methods.offer(r.method());
            }
            super.encode(ctx, msg, out);
        }
    }

    final class Decoder extends HttpResponseDecoder {
        Decoder(HttpDecoderConfig config) {
            super(config);
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
            if (done) {
                int readable = actualReadableBytes();
                if (readable > 0) {
                    out.add(buffer.readBytes(readable));
                }
                return;
            }
            super.decode(ctx, buffer, out);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int code = ((HttpResponse) msg).status().code();
            if (code >= 100 && code < 200) {
                return super.isContentAlwaysEmpty(msg); // informational: the final response still answers the request
            }
            HttpMethod method = methods.poll();
            if (method != null) {
                if (HttpMethod.HEAD.equals(method)) {
                    return true;
                }
                if (code == 200 && HttpMethod.CONNECT.equals(method)) {
                    done = true; // a tunnel: not HTTP any more
                    methods.clear();
                    return true;
                }
            }
            return super.isContentAlwaysEmpty(msg);
        }

        @Override
        protected AsciiString splitHeaderName(byte[] sb, int start, int length) {
            AsciiString known = KnownNames.find(sb, start, length);
            return known != null ? known : super.splitHeaderName(sb, start, length);
        }
    }

    /** Common response header names in their usual spellings, bucketed by length. */
    static final class KnownNames {
        private static final AsciiString[][] BY_LENGTH = new AsciiString[64][];

        static {
            String[] names = {"Content-Type", "Content-Length", "Date", "Server", "Connection", "Transfer-Encoding",
                    "Keep-Alive", "Cache-Control", "ETag", "Last-Modified", "Vary", "Content-Encoding", "Set-Cookie",
                    "Location", "Expires", "Accept-Ranges", "Access-Control-Allow-Origin", "X-Request-Id", "Trailer",
                    "Pragma", "Age", "Content-Language", "Content-Disposition", "Grpc-Status", "Grpc-Message",
                    "Strict-Transport-Security", "X-Content-Type-Options", "X-Frame-Options", "Content-Range",
                    "WWW-Authenticate", "Retry-After", "Allow", "Link", "Upgrade"};
            java.util.Map<Integer, java.util.List<AsciiString>> m = new java.util.TreeMap<>();
            for (String n : names) {
                for (String v : new String[] {n, n.toLowerCase(java.util.Locale.ROOT)}) {
                    java.util.List<AsciiString> l = m.computeIfAbsent(v.length(), k -> new java.util.ArrayList<>());
                    AsciiString a = AsciiString.cached(v);
                    if (!l.contains(a)) {
                        l.add(a);
                    }
                }
            }
            m.forEach((len, l) -> BY_LENGTH[len] = l.toArray(new AsciiString[0]));
        }

        private KnownNames() {
        }

        /** The cached name whose bytes equal {@code sb[start, start + length)} exactly, or null. */
        static AsciiString find(byte[] sb, int start, int length) {
            if (length >= BY_LENGTH.length) {
                return null;
            }
            AsciiString[] candidates = BY_LENGTH[length];
            if (candidates == null) {
                return null;
            }
            for (AsciiString c : candidates) {
                byte[] a = c.array();
                int off = c.arrayOffset();
                int i = 0;
                while (i < length && a[off + i] == sb[start + i]) {
                    i++;
                }
                if (i == length) {
                    return c;
                }
            }
            return null;
        }
    }
}
