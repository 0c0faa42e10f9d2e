package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.util.AsciiString;
import io.remora.core.protocol.Detection;
import io.remora.core.proxy.ListenerSlot;
import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;

/** Builds the downstream pipelines of the HTTP protocols. */
final class HttpPipelines {

    static final int MAX_CHUNK_BYTES = 64 * 1024;
    /** Stream-level receive window we advertise (memory per stream is bounded by it). */
    static final int STREAM_WINDOW = 256 * 1024;

    private HttpPipelines() {
    }

    static void installDownstream(ChannelPipeline p, ListenerSlot slot, HttpSettings s, boolean h1, boolean h2) {
        p.addLast("http-conn", new ConnectionTracker(slot));
        if (h1 && h2) {
            p.addLast("http-version", new VersionDetector(slot, s));
        } else if (h2) {
            installH2(p, slot, s);
        } else {
            installH1(p, slot, s, false);
        }
    }

    static void installH1(ChannelPipeline p, ListenerSlot slot, HttpSettings s, boolean upgrade) {
        Http1Downstream down = new Http1Downstream(slot, s);
        p.addLast("http-first-byte", down.firstByteWatcher());
        HttpServerCodec codec = new HttpServerCodec(new HttpDecoderConfig()
                .setMaxInitialLineLength(s.maxInitialLineBytes())
                .setMaxHeaderSize(s.maxHeaderBytes())
                .setTrailersFactory(HttpHeadersUtil.SMALL_TRAILERS)
                .setMaxChunkSize(MAX_CHUNK_BYTES));
        p.addLast("http-codec", codec);
        if (upgrade) {
            p.addLast("http-upgrade", new HttpServerUpgradeHandler(codec, protocol ->
                    AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                            ? new H2cUpgrade(slot, s) : null, s.maxUpgradeBodyBytes()));
        }
        p.addLast("http-proxy", down);
    }

    static void installH2(ChannelPipeline p, ListenerSlot slot, HttpSettings s) {
        p.addLast("h2-conn", Http2Downstream.create(slot, s));
    }

    /** {@code Upgrade: h2c}: hands the connection to HTTP/2, taking the HTTP/1 proxy handler out first. */
    private static final class H2cUpgrade implements HttpServerUpgradeHandler.UpgradeCodec {
        private final Http2ServerUpgradeCodec delegate;

        H2cUpgrade(ListenerSlot slot, HttpSettings s) {
            this.delegate = new Http2ServerUpgradeCodec("h2-conn", Http2Downstream.create(slot, s));
        }

        @Override
        public Collection<CharSequence> requiredUpgradeHeaders() {
            return delegate.requiredUpgradeHeaders();
        }

        @Override
        public boolean prepareUpgradeResponse(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest,
                                              io.netty.handler.codec.http.HttpHeaders upgradeHeaders) {
            return delegate.prepareUpgradeResponse(ctx, upgradeRequest, upgradeHeaders);
        }

        @Override
        public void upgradeTo(ChannelHandlerContext ctx, FullHttpRequest upgradeRequest) {
            ChannelPipeline p = ctx.pipeline();
            if (p.get("http-proxy") != null) {
                p.remove("http-proxy");
            }
            if (p.get("http-first-byte") != null) {
                p.remove("http-first-byte");
            }
            delegate.upgradeTo(ctx, upgradeRequest);
        }
    }

    /** {@code http}: HTTP/2 prior knowledge if the connection starts with the preface, HTTP/1.1 otherwise. */
    private static final class VersionDetector extends ByteToMessageDecoder
            implements io.remora.core.proxy.ConnectionHandoff {
        private final ListenerSlot slot;
        private final HttpSettings s;
        private Channel channel;

        VersionDetector(ListenerSlot slot, HttpSettings s) {
            this.slot = slot;
            this.s = s;
        }

        @Override
        protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
            Detection d = HttpProtocol.prefix(in, HttpProtocol.H2_PREFACE);
            if (d == Detection.NEED_MORE_DATA) {
                return;
            }
            if (d == Detection.MATCH) {
                installH2(ctx.pipeline(), slot, s);
            } else {
                installH1(ctx.pipeline(), slot, s, true);
            }
            ctx.pipeline().remove(this);
        }

        /** Nothing decoded yet: the few bytes read travel as unread bytes. */
        @Override
        public boolean quiescent() {
            return true;
        }

        @Override
        public ByteBuf unread() {
            return internalBuffer();
        }

        /** No request yet: nothing to answer. */
        @Override
        public void closeGracefully() {
            channel.close();
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            channel = ctx.channel();
        }
    }

    /** Registers the connection with its listener (open-connection gauge, graceful close) for its whole life. */
    static final class ConnectionTracker extends ChannelInboundHandlerAdapter {
        private final ListenerSlot slot;
        private boolean counted;

        ConnectionTracker(ListenerSlot slot) {
            this.slot = slot;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            slot.connections().add(ctx.channel());
            if (ctx.channel().hasAttr(io.remora.core.proxy.ListenerManager.ADOPTED)) {
                slot.metrics().connectionAdopted(); // accepted (and counted) by the previous process
            } else {
                slot.metrics().connectionOpened();
            }
            counted = true;
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (counted) {
                counted = false;
                slot.metrics().connectionClosed();
            }
            ctx.fireChannelInactive();
        }
    }

    static String ip(Channel ch) {
        if (ch.remoteAddress() instanceof InetSocketAddress a) {
            return a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        }
        return "";
    }
}
