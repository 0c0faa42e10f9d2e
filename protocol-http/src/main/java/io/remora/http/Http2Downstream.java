package io.remora.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.AbstractHttp2ConnectionHandlerBuilder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2ConnectionDecoder;
import io.netty.handler.codec.http2.Http2ConnectionEncoder;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameAdapter;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.collection.IntObjectHashMap;
import io.remora.core.protocol.ProxyError;
import io.remora.core.proxy.ConnectionHandoff;
import io.remora.core.proxy.ListenerSlot;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 downstream connection at frame level: Netty's connection handler with this class as its frame listener,
 * the streams in a map of small {@link Stream} objects (no child channels, no per-stream pipeline). Request heads
 * reach the exchange as the decoded {@link Http2Headers}, bodies as retained DATA slices; a stream's receive window
 * is only given back (WINDOW_UPDATE) while the exchange can pass the bytes on, so a slow upstream holds the caller
 * back by flow control instead of the sidecar buffering.
 */
final class Http2Downstream extends Http2ConnectionHandler implements ConnectionHandoff {

    /** Connection receive window: streams share it, so it is a few stream windows. */
    static final int CONNECTION_WINDOW = 4 * HttpPipelines.STREAM_WINDOW;
    /** Payload of the PING between the two GOAWAYs of a graceful close ("remora"). */
    private static final long GOAWAY_PING = 0x72656d6f7261L;
    private static final long GOAWAY_PING_WAIT_MILLIS = 1000;

    final ListenerSlot slot;
    final HttpSettings settings;
    String callerIp = "";
    private final IntObjectHashMap<Stream> streams = new IntObjectHashMap<>();
    private ChannelHandlerContext ctx;
    private Channel channel;
    /** Failed writes (a stream the caller reset meanwhile) are dropped, not fired down the pipeline. */
    private ChannelPromise quiet;
    private boolean goingAway;
    private boolean finalGoAwaySent;

    static Http2Downstream create(ListenerSlot slot, HttpSettings s) {
        return new Builder(slot, s).build();
    }

    private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2Downstream, Builder> {
        private final ListenerSlot slot;
        private final HttpSettings s;
        private final H2StreamGuard guard = new H2StreamGuard();

        Builder(ListenerSlot slot, HttpSettings s) {
            this.slot = slot;
            this.s = s;
            server(true);
            // RFC 9113 8.3.1: a request without :method, :scheme or :path is malformed (stream error PROTOCOL_ERROR)
            validateRequiredPseudoHeaders(true);
            frameLogger(guard);
            // 0: a close (drain deadline, error) is a hard close; the graceful one is closeGracefully()
            gracefulShutdownTimeoutMillis(0);
            initialSettings(Http2Settings.defaultSettings()
                    .maxHeaderListSize(s.maxHeaderBytes())
                    .initialWindowSize(HttpPipelines.STREAM_WINDOW)
                    .maxConcurrentStreams(s.http2MaxConcurrentStreams()));
            decoderEnforceMaxRstFramesPerWindow(s.http2MaxResetsPerWindow(), s.http2ResetWindowSeconds());
        }

        @Override
        protected Http2Downstream build() {
            return super.build();
        }

        @Override
        protected Http2Downstream build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                        Http2Settings initialSettings) {
            guard.connection(decoder.connection());
            return new Http2Downstream(decoder, encoder, initialSettings, slot, s, guard);
        }
    }

    private Http2Downstream(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                            Http2Settings initialSettings, ListenerSlot slot, HttpSettings settings,
                            H2StreamGuard guard) {
        super(decoder, encoder, initialSettings);
        this.slot = slot;
        this.settings = settings;
        decoder.frameListener(new Listener());
        encoder.flowController().listener(this::writabilityChanged);
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamAdded(Http2Stream stream) {
                guard.opened(stream);
            }

            @Override
            public void onStreamClosed(Http2Stream stream) {
                guard.closed(stream);
                streamClosed(stream.id());
            }
        });
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        channel = ctx.channel();
        quiet = new VoidChannelPromise(channel, false);
        callerIp = HttpPipelines.ip(channel);
        super.handlerAdded(ctx);
        if (channel.isActive()) {
            growConnectionWindow();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx);
        growConnectionWindow();
    }

    private void growConnectionWindow() {
        try {
            decoder().flowController().incrementWindowSize(connection().connectionStream(),
                    CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE);
            ctx.flush();
        } catch (Http2Exception e) {
            onError(ctx, true, e);
        }
    }

    private final class Listener extends Http2FrameAdapter {
        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                                  boolean endOfStream) {
            Stream s = streams.get(streamId);
            if (s == null) {
                newRequest(streamId, headers, endOfStream);
            } else if (s.exchange != null && !s.finished) {
                s.exchange.onRequestTrailers(headers);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(c, streamId, headers, padding, endOfStream);
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            Stream s = streams.get(streamId);
            int n = data.readableBytes();
            if (s == null || s.exchange == null || s.finished) {
                return n + padding; // nobody waits for it: given back at once
            }
            s.unconsumed += n;
            HttpExchange ex = s.exchange;
            ex.onRequestData(data.retain(), endOfStream);
            ex.downstreamReadComplete();
            if (s.readable) {
                s.consume();
            }
            return padding;
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext c, long data) {
            if (goingAway && data == GOAWAY_PING) {
                finalGoAway();
            }
        }
    }

    private void newRequest(int streamId, Http2Headers headers, boolean endOfStream) {
        Stream s = new Stream(streamId);
        streams.put(streamId, s);
        HttpExchange ex = new HttpExchange(s, headers, endOfStream, System.nanoTime());
        s.exchange = ex;
        if (headers.size() > settings.maxHeaders()) {
            ex.respondError(ProxyError.BAD_REQUEST, "more than " + settings.maxHeaders() + " request headers",
                    HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE.code());
            return;
        }
        ex.start();
    }

    private void streamClosed(int id) {
        Stream s = streams.remove(id);
        if (s != null) {
            s.closed = true;
            HttpExchange ex = s.exchange;
            if (ex != null && !s.finished && !s.responseEnded) {
                ex.downstreamClosed(); // the caller reset the stream (or the connection went away)
            }
        }
        if (finalGoAwaySent && connection().numActiveStreams() == 0) {
            channel.eventLoop().execute(channel::close); // not from inside the codec's stream close
        }
    }

    private void writabilityChanged(Http2Stream stream) {
        Stream s = streams.get(stream.id());
        if (s != null && s.exchange != null && !s.finished) {
            s.exchange.downstreamWritabilityChanged();
        }
    }

    /** The HTTP/2 upgrade of an HTTP/1.1 request ({@code Upgrade: h2c}): that request is stream 1. */
    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof HttpServerUpgradeHandler.UpgradeEvent up) {
            FullHttpRequest req = up.upgradeRequest(); // the retain the upgrade handler fired the event with is ours
            Stream s = new Stream(Http2CodecUtil.HTTP_UPGRADE_STREAM_ID);
            streams.put(s.id, s);
            HttpExchange ex = new HttpExchange(s, req, System.nanoTime());
            s.exchange = ex;
            ex.start();
            return;
        }
        if (evt instanceof IdleStateEvent) {
            if (connection().numActiveStreams() == 0) {
                ctx.close();
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
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
     * opened; the connection closes when the active streams end.
     */
    @Override
    public void closeGracefully() {
        if (goingAway || !channel.isActive()) {
            return;
        }
        goingAway = true;
        channel.config().setAutoRead(true);
        goAway(ctx, Integer.MAX_VALUE, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER, ctx.newPromise());
        encoder().writePing(ctx, false, GOAWAY_PING, ctx.newPromise());
        ctx.flush();
        channel.eventLoop().schedule(this::finalGoAway, GOAWAY_PING_WAIT_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void finalGoAway() {
        if (finalGoAwaySent || !channel.isActive()) {
            return;
        }
        finalGoAwaySent = true;
        goAway(ctx, connection().remote().lastStreamCreated(), Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                ctx.newPromise());
        ctx.flush();
        if (connection().numActiveStreams() == 0) {
            channel.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            super.exceptionCaught(ctx, cause);
            return;
        }
        HttpExchange.log.debug("HTTP/2 connection from {} on listener {} failed: {}", callerIp, slot.name(),
                cause.toString());
        ctx.close();
    }

    /** One stream of the connection: exactly one exchange. */
    final class Stream implements DownstreamSide {
        final int id;
        HttpExchange exchange;
        boolean finished;
        boolean closed;
        /** The exchange wrote the end of the response: a close of the stream now is the normal end. */
        boolean responseEnded;
        boolean readable = true;
        /** Request DATA bytes received but not yet given back to the caller's window. */
        int unconsumed;
        /** The write of the response's last frame (a reset must not overtake it). */
        ChannelPromise endWrite;

        Stream(int id) {
            this.id = id;
        }

        void consume() {
            int n = unconsumed;
            if (n == 0) {
                return;
            }
            unconsumed = 0;
            Http2Stream st = connection().stream(id);
            if (st == null || closed) {
                return; // a closed stream's unconsumed bytes went back to the connection window
            }
            try {
                if (decoder().flowController().consumeBytes(st, n)) {
                    FlushBatch.flushLater(channel);
                }
            } catch (Http2Exception e) {
                onError(ctx, true, e);
            }
        }

        private void reset(long code) {
            if (!closed) {
                resetStream(ctx, id, code, ctx.newPromise());
                FlushBatch.flushLater(channel);
            }
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
            return true;
        }

        @Override
        public void setReadable(boolean r) {
            readable = r;
            if (r) {
                consume();
            }
        }

        @Override
        public boolean isWritable() {
            Http2Stream st = connection().stream(id);
            return st != null && encoder().flowController().isWritable(st);
        }

        @Override
        public void write(HttpObject msg) {
            if (msg instanceof HttpResponse r) {
                Http2Headers h = Http2Convert.toHttp2(r);
                if (msg instanceof LastHttpContent last) { // a full response (the sidecar's own errors)
                    if (!last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                        last.release();
                        writeHeaders(h, true);
                    } else {
                        writeHeaders(h, false);
                        writeContent(last);
                    }
                } else {
                    writeHeaders(h, false);
                }
            } else if (msg instanceof HttpContent c) {
                writeContent(c);
            }
        }

        private void writeContent(HttpContent c) {
            if (c instanceof Http2Convert.Trailers t) {
                writeHeaders(t.headers, true);
            } else if (c instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
                Http2Headers t = Http2Convert.toHttp2Trailers(last.trailingHeaders());
                writeData(last.content(), false);
                writeHeaders(t, true);
            } else {
                writeData(c.content(), c instanceof LastHttpContent);
            }
        }

        @Override
        public void writeHeaders(Http2Headers headers, boolean endStream) {
            if (closed) {
                return;
            }
            encoder().writeHeaders(ctx, id, headers, 0, endStream, endStream ? ended() : quiet);
        }

        @Override
        public void writeData(ByteBuf data, boolean endStream) {
            if (closed) {
                data.release();
                return;
            }
            encoder().writeData(ctx, id, data, 0, endStream, endStream ? ended() : quiet);
        }

        private ChannelPromise ended() {
            responseEnded = true;
            return endWrite = ctx.newPromise();
        }

        @Override
        public void exchangeDone(HttpExchange ex, boolean close) {
            finished = true;
            if (close && !closed) {
                unconsumed = 0;
                ChannelPromise end = endWrite;
                if (end != null && !end.isDone()) { // the caller still sends: stop it once the response is out
                    end.addListener(f -> reset(Http2Error.NO_ERROR.code()));
                } else {
                    reset(ex.upstreamResetCode >= 0 ? ex.upstreamResetCode
                            : responseEnded ? Http2Error.NO_ERROR.code() : Http2Error.CANCEL.code());
                }
                return;
            }
            readable = true;
            consume();
        }
    }
}
