package io.remora.core.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.proxy.ListenerSlot;

/** The connection-level end of an HTTP/2 downstream connection: idle handling and the stream count. */
final class Http2Downstream extends ChannelInboundHandlerAdapter implements io.remora.core.proxy.ConnectionHandoff {

    /** Connection receive window: streams share it, so it is a few stream windows. */
    static final int CONNECTION_WINDOW = 4 * HttpPipelines.STREAM_WINDOW;

    final ListenerSlot slot;
    final HttpSettings settings;
    String callerIp = "";
    int activeStreams;
    private io.netty.channel.Channel channel;
    private boolean goingAway;

    Http2Downstream(ListenerSlot slot, HttpSettings settings) {
        this.slot = slot;
        this.settings = settings;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        callerIp = HttpPipelines.ip(ctx.channel());
        if (ctx.channel().isActive()) {
            growConnectionWindow(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        growConnectionWindow(ctx);
        ctx.fireChannelActive();
    }

    static void growConnectionWindow(ChannelHandlerContext ctx) {
        ctx.writeAndFlush(new DefaultHttp2WindowUpdateFrame(CONNECTION_WINDOW - 65_535));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ReferenceCountUtil.release(msg); // connection-level frames the multiplexer passes on (settings, ping, goaway)
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (activeStreams == 0) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** Never at a boundary: streams interleave and the HPACK tables cannot travel with the socket. */
    @Override
    public boolean quiescent() {
        return false;
    }

    @Override
    public boolean migratable() {
        return false;
    }

    /**
     * GOAWAY (last stream id = the highest the caller opened), then close once the active streams end. Not Netty's
     * graceful close: the codec's timeout for it is 0, which keeps a later hard close (drain deadline) hard.
     */
    @Override
    public void closeGracefully() {
        if (goingAway || !channel.isActive()) {
            return;
        }
        goingAway = true;
        channel.config().setAutoRead(true); // the active streams still read their bodies and window updates
        io.netty.handler.codec.http2.Http2FrameCodec codec =
                channel.pipeline().get(io.netty.handler.codec.http2.Http2FrameCodec.class);
        if (codec == null) {
            channel.close();
            return;
        }
        io.netty.handler.codec.http2.Http2Connection c = codec.connection();
        c.addListener(new io.netty.handler.codec.http2.Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
                if (c.numActiveStreams() == 0) {
                    channel.eventLoop().execute(channel::close); // not from inside the codec's stream close
                }
            }
        });
        channel.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame(
                io.netty.handler.codec.http2.Http2Error.NO_ERROR));
        if (c.numActiveStreams() == 0) {
            channel.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpExchange.log.debug("HTTP/2 connection from {} on listener {} failed: {}", callerIp, slot.name(),
                cause.toString());
        ctx.close();
    }
}
