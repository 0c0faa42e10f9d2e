package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.cluster.Host;
import io.remora.core.metrics.HostMetrics;

/**
 * The upstream end of one exchange: an HTTP/1.1 connection lent from the loop's pool (then it sits last in that
 * channel's pipeline and passes response objects to the exchange it serves), or one HTTP/2 stream of a multiplexed
 * connection (a plain object fed by the connection's frame listener).
 */
abstract class UpstreamLink extends ChannelInboundHandlerAdapter {

    final Host host;
    final HostMetrics hostMetrics;
    /** The connection (HTTP/2: shared by every stream). */
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

    /** A request object in HTTP/1 form (HTTP/2: body chunks and ends only; the exchange converts heads). */
    void write(HttpObject msg) {
        channel.write(msg, channel.voidPromise());
    }

    /** A request head or trailers in h2 form (HTTP/2 links only). */
    void writeHeaders(Http2Headers headers, boolean endStream) {
        throw new IllegalStateException("not an HTTP/2 link");
    }

    /** A request body chunk from an h2 caller; takes ownership of {@code data}. */
    void writeData(ByteBuf data, boolean endStream) {
        write(Http2Convert.content(data, endStream));
    }

    /** Flush at the end of the loop's I/O round (batched with the connection's other streams). */
    void flush() {
        FlushBatch.flushLater(channel);
    }

    boolean isWritable() {
        return channel.isWritable();
    }

    /** Back-pressure on the response body (HTTP/2: withhold the stream's window updates). */
    void setReadable(boolean readable) {
        channel.config().setAutoRead(readable);
    }

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
