package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.remora.core.protocol.Detection;
import io.remora.core.protocol.DownstreamInstaller;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProtocolOptions;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import java.nio.charset.StandardCharsets;

/**
 * The built-in HTTP protocols. {@code http1}: HTTP/1.1 only. {@code http2}: h2c with prior knowledge only.
 * {@code http}: HTTP/1.1 plus h2c (prior knowledge detected from the preface, or an {@code Upgrade: h2c} request).
 * They serve connections with their own pipeline ({@link #downstreamInstaller()}), not the RPC engine.
 */
public abstract class HttpProtocol implements Protocol {

    static final byte[] H2_PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[][] METHODS;

    static {
        String[] ms = {"GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "TRACE ", "CONNECT "};
        METHODS = new byte[ms.length][];
        for (int i = 0; i < ms.length; i++) {
            METHODS[i] = ms[i].getBytes(StandardCharsets.US_ASCII);
        }
    }

    private final boolean h1;
    private final boolean h2;

    HttpProtocol(boolean h1, boolean h2) {
        this.h1 = h1;
        this.h2 = h2;
    }

    /** HTTP/1.1 and h2c (upgrade or prior knowledge). */
    public static final class Http extends HttpProtocol {
        public Http() {
            super(true, true);
        }

        @Override
        public String name() {
            return "http";
        }
    }

    /** HTTP/1.1 only. */
    public static final class Http1 extends HttpProtocol {
        public Http1() {
            super(true, false);
        }

        @Override
        public String name() {
            return "http1";
        }
    }

    /** HTTP/2 cleartext with prior knowledge only. */
    public static final class Http2 extends HttpProtocol {
        public Http2() {
            super(false, true);
        }

        @Override
        public String name() {
            return "http2";
        }
    }

    @Override
    public Detection detect(ByteBuf in) {
        boolean needMore = false;
        if (h2) {
            Detection d = prefix(in, H2_PREFACE);
            if (d == Detection.MATCH) {
                return d;
            }
            needMore = d == Detection.NEED_MORE_DATA;
        }
        if (h1) {
            for (byte[] m : METHODS) {
                Detection d = prefix(in, m);
                if (d == Detection.MATCH) {
                    return d;
                }
                needMore |= d == Detection.NEED_MORE_DATA;
            }
        }
        return needMore ? Detection.NEED_MORE_DATA : Detection.NO_MATCH;
    }

    static Detection prefix(ByteBuf in, byte[] expected) {
        int n = Math.min(in.readableBytes(), expected.length);
        int r = in.readerIndex();
        for (int i = 0; i < n; i++) {
            if (in.getByte(r + i) != expected[i]) {
                return Detection.NO_MATCH;
            }
        }
        return n == expected.length ? Detection.MATCH : Detection.NEED_MORE_DATA;
    }

    @Override
    public RpcCodec codec(ProtocolOptions options) {
        return new ListenerCodec(this, HttpSettings.from(options));
    }

    @Override
    public DownstreamInstaller downstreamInstaller() {
        return (pipeline, listener, codec) -> HttpPipelines.installDownstream(pipeline, listener,
                ((ListenerCodec) codec).settings, h1, h2);
    }

    /**
     * Carries an HTTP listener's settings through the listener spec (whose codec list the core builds for every
     * protocol). HTTP is not framed RPC, so the RPC methods are never called by the core.
     */
    static final class ListenerCodec implements RpcCodec {
        final HttpProtocol protocol;
        final HttpSettings settings;

        ListenerCodec(HttpProtocol protocol, HttpSettings settings) {
            this.protocol = protocol;
            this.settings = settings;
        }

        @Override public Protocol protocol() { return protocol; }
        @Override public ChannelHandler newDecoder() { throw notRpc(); }
        @Override public long maxRequestId() { throw notRpc(); }
        @Override public ByteBuf encodeRequest(RpcFrame request, long upstreamId, int timeoutMillis) { throw notRpc(); }
        @Override public ByteBuf encodeResponse(RpcFrame response, long downstreamId) { throw notRpc(); }
        @Override public ByteBuf heartbeatAck(RpcFrame heartbeat, ByteBufAllocator alloc) { throw notRpc(); }
        @Override public ByteBuf heartbeat(long id, ByteBufAllocator alloc) { return null; }
        @Override public ByteBuf errorResponse(RpcFrame r, ProxyError e, String m, ByteBufAllocator a) { throw notRpc(); }

        private UnsupportedOperationException notRpc() {
            return new UnsupportedOperationException("protocol " + protocol.name()
                    + " is served by its own pipeline, not the RPC engine (an RPC cluster cannot speak HTTP)");
        }
    }
}
