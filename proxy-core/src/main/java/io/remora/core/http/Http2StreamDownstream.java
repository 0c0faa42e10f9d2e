package io.remora.core.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.protocol.ProxyError;
import io.remora.core.proxy.ListenerSlot;

/** One HTTP/2 stream of a downstream connection: exactly one exchange. */
final class Http2StreamDownstream extends ChannelInboundHandlerAdapter implements DownstreamSide {

    private final Http2Downstream conn;
    private Channel channel;
    private HttpExchange exchange;
    private boolean finished;

    Http2StreamDownstream(Http2Downstream conn) {
        this.conn = conn;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        conn.activeStreams++;
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public ListenerSlot slot() {
        return conn.slot;
    }

    @Override
    public HttpSettings settings() {
        return conn.settings;
    }

    @Override
    public String callerIp() {
        return conn.callerIp;
    }

    @Override
    public boolean http2() {
        return true;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (exchange == null && !finished && msg instanceof HttpRequest req) {
            if (req.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            HttpExchange ex = new HttpExchange(this, req, System.nanoTime());
            exchange = ex;
            if (req.headers().size() > conn.settings.maxHeaders()) {
                ex.respondError(ProxyError.BAD_REQUEST, "more than " + conn.settings.maxHeaders()
                        + " request headers", HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.code());
                return;
            }
            ex.start();
            return;
        }
        if (exchange != null && msg instanceof HttpContent c) {
            exchange.onRequestContent(c);
            return;
        }
        ReferenceCountUtil.release(msg);
    }

    @Override
    public void setReadable(boolean readable) {
        channel.config().setAutoRead(readable);
    }

    @Override
    public void exchangeDone(HttpExchange ex, boolean close) {
        finished = true;
        channel.config().setAutoRead(true); // drain (and drop) whatever the caller still sends
        if (close) {
            channel.flush();
            channel.close();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        HttpExchange ex = exchange;
        if (ex != null && !finished) {
            ex.downstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        HttpExchange ex = exchange;
        if (ex != null && !finished) {
            ex.downstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        conn.activeStreams--;
        HttpExchange ex = exchange;
        if (ex != null) {
            ex.downstreamClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpExchange.log.debug("HTTP/2 stream from {} failed: {}", conn.callerIp, cause.toString());
        ctx.close();
    }
}
