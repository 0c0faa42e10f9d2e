package io.remora.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.config.ListenerSpec;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import java.net.InetSocketAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's end of one downstream (caller) connection: turns decoded frames into {@link RpcStream}s, answers
 * heartbeats itself, and closes the connection (only this one) on a malformed frame or when idle.
 */
public final class DownstreamConnection extends ChannelInboundHandlerAdapter implements ConnectionHandoff {

    private static final Logger log = LoggerFactory.getLogger(DownstreamConnection.class);

    private final ListenerSlot slot;
    private final RpcCodec codec;
    private Channel channel;
    /** Computed on first use: an idle connection holds no address string. */
    private String callerIp;
    private int inflight;

    public DownstreamConnection(ListenerSlot slot, RpcCodec codec) {
        this.slot = slot;
        this.codec = codec;
        this.maxInflight = slot.limits().maxRequestsPerConnection();
    }

    private final int maxInflight;

    /**
     * A caller pipelining more requests than {@code limits.max_requests_per_connection} on one connection: the excess
     * is answered with the overflow error (oneway ones are dropped), counted and logged once per interval.
     */
    private void refuseOverLimit(RpcFrame f) {
        try {
            slot.metrics().requestRefused("max_requests_per_connection");
            slot.limitLog().warn(slot.name() + ":max_requests_per_connection", "listener {}: request from {} refused: {}"
                    + " requests already in flight on its connection (limits.max_requests_per_connection)",
                    slot.name(), callerIp(), maxInflight);
            if (f.kind() != io.remora.core.protocol.FrameKind.ONEWAY) {
                LoopContext.current().write(channel, codec.errorResponse(f, io.remora.core.protocol.ProxyError.OVERFLOW,
                        "too many requests in flight on this connection (limit " + maxInflight + ")", channel.alloc()));
            }
        } finally {
            f.release();
        }
    }

    RpcCodec codec() {
        return codec;
    }

    EventLoop eventLoop() {
        return channel.eventLoop();
    }

    ByteBufAllocator alloc() {
        return channel.alloc();
    }

    String callerIp() {
        String ip = callerIp;
        if (ip == null) {
            ip = channel.remoteAddress() instanceof InetSocketAddress a
                    ? (a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress()) : "";
            callerIp = ip;
        }
        return ip;
    }

    ListenerSlot slot() {
        return slot;
    }

    String localApp() {
        return slot.localApp();
    }

    /** Requests received on this connection and not yet answered (0 = the connection is at a frame boundary). */
    public int inflight() {
        return inflight;
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        slot.connections().add(channel);
        if (channel.hasAttr(ListenerManager.ADOPTED)) {
            slot.metrics().connectionAdopted(); // accepted (and counted) by the previous process
        } else {
            slot.metrics().connectionOpened();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        slot.metrics().connectionClosed();
        ctx.fireChannelInactive();
    }

    io.remora.core.metrics.ListenerMetrics metrics() {
        return slot.metrics();
    }

    io.remora.core.digest.DigestLog digest() {
        return slot.digest();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof RpcFrame f)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        switch (f.kind()) {
            case REQUEST, ONEWAY -> {
                if (inflight >= maxInflight) {
                    refuseOverLimit(f);
                    return;
                }
                ListenerSpec spec = slot.spec();
                inflight++;
                RpcStream.open(this, f, spec, System.nanoTime());
            }
            case HEARTBEAT -> {
                try {
                    LoopContext.current().write(channel, codec.heartbeatAck(f, ctx.alloc()));
                } finally {
                    f.release();
                }
            }
            default -> {
                log.debug("unexpected {} frame from downstream {} on {}, dropped", f.kind(), callerIp(), slot.name());
                f.release();
            }
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        LoopContext.current().flush();
    }

    void write(ByteBuf buf) {
        if (channel.isActive()) {
            LoopContext.current().write(channel, buf);
        } else {
            buf.release();
        }
    }

    void streamDone() {
        inflight--;
        if (closeWhenIdle && inflight == 0) {
            closeAfterFlush();
        }
    }

    private boolean closeWhenIdle;
    /** A malformed frame was counted and logged; the connection is closing. */
    private boolean malformed;

    @Override
    public boolean quiescent() {
        return inflight == 0;
    }

    @Override
    public void closeGracefully() {
        closeWhenIdle();
    }

    /**
     * Graceful close for draining: no new request is taken after this, and the connection closes once its last
     * response is written (at once if none is in flight). Runs on the connection's event loop.
     */
    public void closeWhenIdle() {
        if (!channel.eventLoop().inEventLoop()) {
            channel.eventLoop().execute(this::closeWhenIdle);
            return;
        }
        closeWhenIdle = true;
        channel.config().setAutoRead(false);
        if (inflight == 0) {
            closeAfterFlush();
        }
    }

    private void closeAfterFlush() {
        LoopContext.current().flush();
        channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                .addListener(io.netty.channel.ChannelFutureListener.CLOSE);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (inflight == 0) {
                log.debug("closing idle connection from {} on {}", channel.remoteAddress(), slot.name());
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /**
     * What kind of malformation a decoder message names, for the log's rate limit: its text up to the first digit
     * (the codecs' messages are fixed templates with numbers in them: "bolt frame of 123 bytes exceeds ..."), so a
     * CRC mismatch and a bad magic each get their line, while a flood of one kind gets one line per interval.
     */
    static String kindOf(String message) {
        if (message == null) {
            return "";
        }
        int end = Math.min(message.length(), 48);
        for (int i = 0; i < end; i++) {
            if (Character.isDigit(message.charAt(i))) {
                end = i;
                break;
            }
        }
        return message.substring(0, end);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof DecoderException && !malformed) {
            malformed = true; // a decoder may throw again on the bytes left when the connection closes
            // Rate-limited (limits.log): a caller can send garbage on as many connections as it likes.
            slot.metrics().malformedFrame();
            slot.limitLog().warn(slot.name() + ":malformed_frame:" + kindOf(cause.getMessage()),
                    "listener {}: closing connection from {}: malformed {} frame: {}", slot.name(),
                    channel.remoteAddress(), codec.protocol().name(), cause.getMessage());
        } else if (!(cause instanceof DecoderException)) {
            log.debug("connection from {} on listener {} failed: {}", channel.remoteAddress(), slot.name(),
                    cause.toString());
        }
        ctx.close();
    }
}
