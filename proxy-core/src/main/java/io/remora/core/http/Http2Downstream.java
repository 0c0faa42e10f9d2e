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
    private boolean finalGoAwaySent;
    private io.netty.handler.codec.http2.Http2Connection h2;
    /** Payload of the PING between the two GOAWAYs of a graceful close ("remora"). */
    private static final long GOAWAY_PING = 0x72656d6f7261L;
    private static final long GOAWAY_PING_WAIT_MILLIS = 1000;

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
        if (goingAway && msg instanceof io.netty.handler.codec.http2.Http2PingFrame p && p.ack()
                && p.content() == GOAWAY_PING) {
            finalGoAway();
        }
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
     * Two-step GOAWAY (RFC 9113 6.8): first with the maximum stream id plus a PING, then, once the PING is answered
     * (every stream the caller opened before it saw the first GOAWAY has arrived), with the highest stream id it
     * opened; the connection closes when the active streams end. Not Netty's graceful close: the frame codec's
     * timeout for it is 0, which keeps a later hard close (drain deadline) hard.
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
        h2 = codec.connection();
        h2.addListener(new io.netty.handler.codec.http2.Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(io.netty.handler.codec.http2.Http2Stream stream) {
                if (finalGoAwaySent && h2.numActiveStreams() == 0) {
                    channel.eventLoop().execute(channel::close); // not from inside the codec's stream close
                }
            }
        });
        channel.write(new io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame(
                io.netty.handler.codec.http2.Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE));
        channel.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2PingFrame(GOAWAY_PING));
        channel.eventLoop().schedule(this::finalGoAway, GOAWAY_PING_WAIT_MILLIS,
                java.util.concurrent.TimeUnit.MILLISECONDS); // a caller that never answers the PING
    }

    private void finalGoAway() {
        if (finalGoAwaySent || !channel.isActive()) {
            return;
        }
        finalGoAwaySent = true;
        // the codec fills in the last stream id: the highest the caller opened
        channel.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame(
                io.netty.handler.codec.http2.Http2Error.NO_ERROR));
        if (h2.numActiveStreams() == 0) {
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
