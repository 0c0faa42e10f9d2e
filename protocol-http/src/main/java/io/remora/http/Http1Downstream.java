package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import io.remora.core.proxy.ListenerSlot;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP/1.1 downstream connection: runs its exchanges one at a time in order (pipelined requests wait, decoded,
 * with reading paused), enforces the header limits and the request-header timeout, and keeps the connection alive
 * between exchanges unless either side asked to close.
 */
final class Http1Downstream extends ChannelInboundHandlerAdapter implements DownstreamSide,
        io.remora.core.proxy.ConnectionHandoff {

    private static final Logger log = LoggerFactory.getLogger(Http1Downstream.class);

    private final ListenerSlot slot;
    private final HttpSettings settings;
    private Channel channel;
    private String callerIp = "";
    private HttpExchange current;
    private boolean currentRequestDone;
    private final ArrayDeque<Object> queued = new ArrayDeque<>(2);
    private boolean closing;
    private boolean exchangeWantsRead = true;
    private boolean bytesSinceHead;
    private ScheduledFuture<?> headerTimer;
    /** Drain: the current (or next) exchange is the last one. */
    private boolean closeAfterExchange;
    /** Upgrade: asked to move; reading resumes only to finish a request body. */
    private boolean handoffPaused;
    private long headStartNanos;
    private final Runnable headerTimeoutTask = this::headerTimeout;

    Http1Downstream(ListenerSlot slot, HttpSettings settings) {
        this.slot = slot;
        this.settings = settings;
    }

    /** Sits before the codec: the first byte of a request head starts the request-header timer (slowloris). */
    ChannelInboundHandlerAdapter firstByteWatcher() {
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                if (msg instanceof ByteBuf b && b.isReadable()) {
                    bytesArrived();
                }
                ctx.fireChannelRead(msg);
            }
        };
    }

    private void bytesArrived() {
        bytesSinceHead = true;
        if (current == null && headStartNanos == 0 && !closing) {
            armHeaderTimer();
        }
    }

    /**
     * Starts the request-header clock. The timer task outlives the request: a head that completes only clears
     * {@link #headStartNanos}, and the task re-arms itself for the next head, so keep-alive traffic does not schedule
     * and cancel a task per request.
     */
    private void armHeaderTimer() {
        long ms = settings.requestHeaderTimeoutMillis();
        if (ms > 0 && channel != null) {
            headStartNanos = System.nanoTime() | 1; // never 0 (= no head in progress)
            if (headerTimer == null) {
                headerTimer = channel.eventLoop().schedule(headerTimeoutTask, ms, TimeUnit.MILLISECONDS);
            }
        }
    }

    /** A head arrived: its clock stops (the task stays scheduled, see {@link #armHeaderTimer()}). */
    private void headReceived() {
        headStartNanos = 0;
    }

    private void cancelHeaderTimer() {
        headStartNanos = 0;
        if (headerTimer != null) {
            headerTimer.cancel(false);
            headerTimer = null;
        }
    }

    private void headerTimeout() {
        headerTimer = null;
        long start = headStartNanos;
        if (start == 0 || current != null || closing || !channel.isActive()) {
            return; // no head in progress: the next first byte arms again
        }
        long timeoutNanos = TimeUnit.MILLISECONDS.toNanos(settings.requestHeaderTimeoutMillis());
        long left = start + timeoutNanos - System.nanoTime();
        if (left > 0) {
            headerTimer = channel.eventLoop().schedule(headerTimeoutTask, left, TimeUnit.NANOSECONDS);
            return;
        }
        reject(HttpResponseStatus.REQUEST_TIMEOUT, "request headers not received within "
                + settings.requestHeaderTimeoutMillis() + " ms");
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        callerIp = HttpPipelines.ip(channel);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelHeaderTimer();
    }

    @Override
    public Channel channel() {
        return channel;
    }

    @Override
    public ListenerSlot slot() {
        return slot;
    }

    @Override
    public HttpSettings settings() {
        return settings;
    }

    @Override
    public String callerIp() {
        return callerIp;
    }

    @Override
    public boolean http2() {
        return false;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (current != null && currentRequestDone) {
            queued.add(msg); // pipelined: answered after the current exchange
            updateRead();
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (msg instanceof HttpObject o && o.decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            Throwable cause = o.decoderResult().cause();
            HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                    ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                    : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                    : HttpResponseStatus.BAD_REQUEST;
            if (current != null) {
                current.downstreamClosed();
                current = null;
            }
            reject(status, "malformed request: " + cause.getMessage());
            return;
        }
        if (current != null) {
            if (msg instanceof HttpContent c) {
                currentRequestDone = c instanceof LastHttpContent;
                current.onRequestContent(c);
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        if (!(msg instanceof HttpRequest req)) {
            ReferenceCountUtil.release(msg); // the rest of a body nobody waits for
            return;
        }
        headReceived();
        bytesSinceHead = false;
        if (req.headers().size() > settings.maxHeaders()) {
            ReferenceCountUtil.release(msg);
            reject(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "more than " + settings.maxHeaders()
                    + " request headers");
            return;
        }
        if (HttpUtil.is100ContinueExpected(req)) {
            req.headers().remove(HttpHeaderNames.EXPECT); // we stream the body anyway: let the caller send it
            channel.writeAndFlush(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE),
                    channel.voidPromise());
        }
        currentRequestDone = req instanceof LastHttpContent;
        exchangeWantsRead = true;
        HttpExchange ex = new HttpExchange(this, req, System.nanoTime());
        current = ex;
        if (closeAfterExchange) {
            ex.closeConnectionAfter();
        }
        ex.start();
    }

    @Override
    public boolean isWritable() {
        return channel.isWritable();
    }

    @Override
    public void write(HttpObject msg) {
        channel.write(msg, channel.voidPromise());
    }

    @Override
    public void writeHeaders(io.netty.handler.codec.http2.Http2Headers headers, boolean endStream) {
        throw new IllegalStateException("HTTP/1 caller: the exchange converts h2 heads");
    }

    @Override
    public void writeData(ByteBuf data, boolean endStream) {
        channel.write(Http2Convert.content(data, endStream), channel.voidPromise());
    }

    @Override
    public void setReadable(boolean readable) {
        exchangeWantsRead = readable;
        updateRead();
    }

    private void updateRead() {
        channel.config().setAutoRead(exchangeWantsRead && queued.isEmpty() && !closing
                && !(handoffPaused && (current == null || currentRequestDone)));
    }

    @Override
    public void exchangeDone(HttpExchange exchange, boolean close) {
        if (current != exchange) {
            return;
        }
        current = null;
        exchangeWantsRead = true;
        if (close || closeAfterExchange) {
            closing = true;
            releaseQueued();
            channel.flush();
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        while (!closing && !queued.isEmpty() && (current == null || !currentRequestDone)) {
            dispatch(queued.poll());
        }
        if (current == null && bytesSinceHead && headStartNanos == 0 && !closing) {
            armHeaderTimer();
        }
        if (!closing) {
            updateRead();
        }
    }

    private void reject(HttpResponseStatus status, String message) {
        closing = true;
        cancelHeaderTimer();
        releaseQueued();
        log.info("closing HTTP connection from {} on listener {}: {} {}", callerIp, slot.name(), status.code(),
                message);
        FullHttpResponse r = HttpErrors.http(status.code(), "bad_request", message, channel.alloc());
        r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        channel.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    private void releaseQueued() {
        Object o;
        while ((o = queued.poll()) != null) {
            ReferenceCountUtil.release(o);
        }
    }

    /** Between requests with nothing of the next one parsed (raw bytes of its first line travel as unread bytes). */
    @Override
    public boolean quiescent() {
        handoffPaused = true;
        if (current != null || !queued.isEmpty() || closing) {
            updateRead(); // a request body still arriving must be read to its end
            return false;
        }
        return Http1DecoderState.atMessageStart(channel.pipeline());
    }

    @Override
    public ByteBuf unread() {
        return Http1DecoderState.buffered(channel.pipeline());
    }

    /** Idle: close now; otherwise the current (or already arriving) request is answered with Connection: close. */
    @Override
    public void closeGracefully() {
        if (closing || !channel.isActive()) {
            return;
        }
        closeAfterExchange = true;
        handoffPaused = false;
        HttpExchange ex = current;
        if (ex != null) {
            ex.closeConnectionAfter();
        } else if (Http1DecoderState.idle(channel.pipeline())) {
            closing = true;
            cancelHeaderTimer();
            channel.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        updateRead();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        HttpExchange ex = current;
        if (ex != null) {
            ex.downstreamReadComplete();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        HttpExchange ex = current;
        if (ex != null) {
            ex.downstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        cancelHeaderTimer();
        closing = true;
        releaseQueued();
        HttpExchange ex = current;
        current = null;
        if (ex != null) {
            ex.downstreamClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            if (current == null) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("HTTP connection from {} on listener {} failed: {}", callerIp, slot.name(), cause.toString());
        ctx.close();
    }
}
