package io.remora.core.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.cluster.Host;
import io.remora.core.metrics.HostMetrics;

/**
 * The upstream end of one exchange: an HTTP/1.1 connection lent from the loop's pool, or one HTTP/2 stream. Sits last
 * in that channel's pipeline and passes response objects to the exchange it currently serves.
 */
abstract class UpstreamLink extends ChannelInboundHandlerAdapter {

    final Host host;
    final HostMetrics hostMetrics;
    Channel channel;
    HttpExchange exchange;
    /** Taken from the idle list (the server may have closed it meanwhile). */
    boolean reused;

    UpstreamLink(Host host, HostMetrics hostMetrics) {
        this.host = host;
        this.hostMetrics = hostMetrics;
    }

    abstract boolean http2();

    /** The exchange is done with this link; {@code reusable}: the HTTP/1 connection is at a message boundary. */
    abstract void finished(boolean reusable);

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        HttpExchange ex = exchange;
        if (ex == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        ex.onResponseObject(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        HttpExchange ex = exchange;
        if (ex != null) {
            ex.flushDownstream();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        HttpExchange ex = exchange;
        if (ex != null) {
            ex.upstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        HttpExchange ex = exchange;
        exchange = null;
        closed();
        if (ex != null) {
            ex.upstreamClosed();
        }
    }

    /** The channel went away (remove from pools). */
    void closed() {
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpExchange.log.debug("upstream {} failed: {}", host, cause.toString());
        ctx.close();
    }
}
