package io.remora.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.VoidChannelPromise;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
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
import io.netty.util.collection.IntObjectHashMap;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.metrics.HostMetrics;
import io.remora.core.transport.Transport;

/**
 * One multiplexed h2c (prior knowledge) connection to an upstream host, owned by one event loop, at frame level:
 * each exchange gets a stream, tracked in a map of {@link StreamLink}s fed by this handler's frame listener (no child
 * channels). Streams are opened only once the server's SETTINGS arrived and while it allows more
 * ({@code SETTINGS_MAX_CONCURRENT_STREAMS}); the loop's pool ({@link HttpUpstreams}) queues or opens another
 * connection beyond that.
 */
final class Http2Upstream extends Http2ConnectionHandler {

    private enum State { CONNECTING, READY, DRAINING, CLOSED }

    private final HttpUpstreams.PerHost ph;
    private final EventLoop loop;
    private final Cluster cluster;
    private final Host host;
    private final HostMetrics hostMetrics;
    private final IntObjectHashMap<StreamLink> streams = new IntObjectHashMap<>();
    private State state = State.CONNECTING;
    private boolean connected;
    /** Streams given to exchanges and not yet released. */
    private int inUse;
    private ChannelHandlerContext ctx;
    private Channel channel;
    private ChannelPromise quiet;

    static Http2Upstream create(HttpUpstreams.PerHost ph, EventLoop loop, Cluster cluster, Host host) {
        return new Builder(ph, loop, cluster, host).build();
    }

    private static final class Builder extends AbstractHttp2ConnectionHandlerBuilder<Http2Upstream, Builder> {
        private final HttpUpstreams.PerHost ph;
        private final EventLoop loop;
        private final Cluster cluster;
        private final Host host;

        Builder(HttpUpstreams.PerHost ph, EventLoop loop, Cluster cluster, Host host) {
            this.ph = ph;
            this.loop = loop;
            this.cluster = cluster;
            this.host = host;
            server(false);
            gracefulShutdownTimeoutMillis(0);
            initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                    .initialWindowSize(HttpPipelines.STREAM_WINDOW)
                    .maxHeaderListSize(HttpUpstreams.MAX_RESPONSE_HEADER_BYTES));
        }

        @Override
        protected Http2Upstream build() {
            return super.build();
        }

        @Override
        protected Http2Upstream build(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder,
                                      Http2Settings initialSettings) {
            return new Http2Upstream(decoder, encoder, initialSettings, ph, loop, cluster, host);
        }
    }

    private Http2Upstream(Http2ConnectionDecoder decoder, Http2ConnectionEncoder encoder, Http2Settings settings,
                          HttpUpstreams.PerHost ph, EventLoop loop, Cluster cluster, Host host) {
        super(decoder, encoder, settings);
        this.ph = ph;
        this.loop = loop;
        this.cluster = cluster;
        this.host = host;
        this.hostMetrics = cluster.metrics().host(host.address());
        decoder.frameListener(new Listener());
        encoder.flowController().listener(this::writabilityChanged);
        connection().addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                streamClosed(stream.id());
            }

            @Override
            public void onGoAwayReceived(int lastStreamId, long errorCode, ByteBuf debugData) {
                // streams above lastStreamId were never processed: their exchanges may go elsewhere
                streams.forEach((id, l) -> {
                    if (id > lastStreamId) {
                        l.reused = true;
                    }
                });
                draining();
            }
        });
    }

    boolean connecting() {
        return state == State.CONNECTING;
    }

    boolean ready() {
        return state == State.READY;
    }

    /** Another stream may be opened now (the server's SETTINGS_MAX_CONCURRENT_STREAMS). */
    boolean hasCapacity() {
        return state == State.READY && inUse < connection().local().maxActiveStreams()
                && connection().local().canOpenStream();
    }

    void connect() {
        Bootstrap b = Transport.get().upstreamBootstrap(loop, cluster.connectTimeoutMillis())
                .handler(new io.netty.channel.ChannelInitializer<io.netty.channel.Channel>() {
                    @Override
                    protected void initChannel(io.netty.channel.Channel ch) {
                        io.remora.core.tls.TransportSockets.install(ch, cluster, host); // TLS (h2 over ALPN) first
                        ch.pipeline().addLast(Http2Upstream.this);
                    }
                });
        ChannelFuture f = b.connect(host.socketAddress());
        f.addListener(done -> onConnected(f));
    }

    private void onConnected(ChannelFuture f) {
        if (f.isSuccess() && state == State.CONNECTING) {
            connected = true;
            host.markConnected();
            hostMetrics.opened();
            return; // streams open once the server's SETTINGS arrive
        }
        if (state == State.CONNECTING) {
            state = State.CLOSED;
            host.markConnectFailure(System.nanoTime());
            hostMetrics.connectFailed();
            String reason = f.cause() == null ? "unknown" : f.cause().getMessage();
            HttpExchange.log.warn("cannot connect to upstream {} (h2c): {}", host, reason);
            HttpUpstreams.h2ConnectFailed(ph, this, "cannot connect to upstream " + host.address() + " of cluster "
                    + cluster.name() + ": " + reason);
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
        this.ctx = ctx;
        channel = ctx.channel();
        quiet = new VoidChannelPromise(channel, false);
        super.handlerAdded(ctx);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        super.channelActive(ctx);
        try {
            decoder().flowController().incrementWindowSize(connection().connectionStream(),
                    Http2Downstream.CONNECTION_WINDOW - Http2CodecUtil.DEFAULT_WINDOW_SIZE);
        } catch (Http2Exception e) {
            onError(ctx, true, e);
        }
        ctx.flush();
    }

    /** Gives {@code ex} a new stream; call only when {@link #hasCapacity()}. */
    void openStream(HttpExchange ex) {
        int id = connection().local().incrementAndGetNextStreamId();
        if (id < 0) { // stream ids exhausted: this connection is done, the exchange goes to another
            draining();
            HttpUpstreams.h2Requeue(ph, ex);
            return;
        }
        StreamLink l = new StreamLink(id);
        streams.put(id, l);
        inUse++;
        ph.h2InUse++;
        ex.upstreamReady(l);
    }

    private final class Listener extends Http2FrameAdapter {
        @Override
        public void onSettingsRead(ChannelHandlerContext c, Http2Settings settings) {
            if (state == State.CONNECTING && connected) {
                state = State.READY;
                HttpUpstreams.h2Dispatch(ph);
            }
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding,
                                  boolean endOfStream) {
            StreamLink l = streams.get(streamId);
            HttpExchange ex = l == null ? null : l.exchange;
            if (ex == null) {
                return;
            }
            if (l.headReceived) {
                ex.onResponseTrailers(headers);
            } else {
                int status = Http2Convert.status(headers);
                l.headReceived = status >= 200 || endOfStream;
                ex.onResponseHeaders(headers, endOfStream);
            }
            ex.flushDownstream();
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int streamDependency,
                                  short weight, boolean exclusive, int padding, boolean endOfStream) {
            onHeadersRead(c, streamId, headers, padding, endOfStream);
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            StreamLink l = streams.get(streamId);
            HttpExchange ex = l == null ? null : l.exchange;
            int n = data.readableBytes();
            if (ex == null) {
                return n + padding;
            }
            l.unconsumed += n;
            ex.onResponseData(data.retain(), endOfStream);
            ex.flushDownstream();
            if (l.readable) {
                l.consume();
            }
            return padding;
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
            StreamLink l = streams.get(streamId);
            if (l != null) {
                l.resetCode = errorCode; // the stream closes right after this
            }
        }
    }

    private void streamClosed(int id) {
        StreamLink l = streams.remove(id);
        if (l == null) {
            return;
        }
        l.closed = true;
        HttpExchange ex = l.exchange;
        l.exchange = null;
        l.release();
        if (ex != null) {
            if (l.resetCode == Http2Error.REFUSED_STREAM.code()) {
                l.reused = true; // not processed (RFC 9113 8.7): safe to send again
            } else if (l.resetCode >= 0) {
                ex.upstreamResetCode = l.resetCode;
            }
            ex.upstreamClosed();
            ex.flushDownstream();
        }
    }

    private void writabilityChanged(Http2Stream stream) {
        StreamLink l = streams.get(stream.id());
        if (l != null && l.exchange != null) {
            l.exchange.upstreamWritabilityChanged();
        }
    }

    private void draining() {
        if (state == State.READY || state == State.CONNECTING) {
            state = State.DRAINING;
            HttpUpstreams.h2Gone(ph, this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        boolean wasConnected = connected;
        connected = false;
        draining();
        state = State.CLOSED;
        if (wasConnected) {
            hostMetrics.closed(inUse > 0);
        }
        super.channelInactive(ctx); // closes the streams: their exchanges hear upstreamClosed
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            super.exceptionCaught(ctx, cause);
            return;
        }
        HttpExchange.log.debug("h2c upstream {} failed: {}", host, cause.toString());
        ctx.close();
    }

    /** One stream: reset if unfinished when its exchange is done. */
    final class StreamLink extends UpstreamLink {
        final int id;
        boolean headReceived;
        boolean closed;
        boolean opened;
        boolean released;
        boolean readable = true;
        /** Response DATA bytes received but not yet given back to the server's window. */
        int unconsumed;
        long resetCode = -1;

        StreamLink(int id) {
            super(Http2Upstream.this.host, Http2Upstream.this.hostMetrics);
            this.id = id;
            this.channel = Http2Upstream.this.channel;
        }

        @Override
        boolean http2() {
            return true;
        }

        void consume() {
            int n = unconsumed;
            if (n == 0) {
                return;
            }
            unconsumed = 0;
            Http2Stream st = connection().stream(id);
            if (st == null || closed) {
                return;
            }
            try {
                if (decoder().flowController().consumeBytes(st, n)) {
                    FlushBatch.flushLater(channel);
                }
            } catch (Http2Exception e) {
                onError(ctx, true, e);
            }
        }

        @Override
        void writeHeaders(Http2Headers headers, boolean endStream) {
            if (closed) {
                return;
            }
            encoder().writeHeaders(ctx, id, headers, 0, endStream, quiet);
            if (!opened) {
                opened = true;
                if (connection().stream(id) == null) { // refused locally (limits): fail outside this write
                    closed = true;
                    loop.execute(this::failOpen);
                }
            }
        }

        private void failOpen() {
            HttpExchange ex = exchange;
            exchange = null;
            streams.remove(id);
            release();
            if (ex != null) {
                ex.upstreamClosed();
                ex.flushDownstream();
            }
        }

        @Override
        void write(HttpObject msg) {
            if (msg instanceof Http2Convert.Trailers t) {
                writeHeaders(t.headers, true);
            } else if (msg instanceof LastHttpContent last && !last.trailingHeaders().isEmpty()) {
                Http2Headers t = Http2Convert.toHttp2Trailers(last.trailingHeaders());
                writeData(last.content(), false);
                writeHeaders(t, true);
            } else if (msg instanceof HttpContent c) {
                writeData(c.content(), c instanceof LastHttpContent);
            } else {
                io.netty.util.ReferenceCountUtil.release(msg);
                throw new IllegalStateException("HTTP/2 link: heads go through writeHeaders");
            }
        }

        @Override
        void writeData(ByteBuf data, boolean endStream) {
            if (closed) {
                data.release();
                return;
            }
            encoder().writeData(ctx, id, data, 0, endStream, quiet);
        }

        @Override
        boolean isWritable() {
            Http2Stream st = connection().stream(id);
            return st != null && encoder().flowController().isWritable(st);
        }

        @Override
        void setReadable(boolean r) {
            readable = r;
            if (r) {
                consume();
            }
        }

        @Override
        void finished(boolean reusable) {
            exchange = null;
            unconsumed = 0;
            release();
            if (!opened) {
                streams.remove(id);
                return;
            }
            if (!closed && !reusable && connection().stream(id) != null) {
                resetStream(ctx, id, Http2Error.CANCEL.code(), ctx.newPromise());
                FlushBatch.flushLater(channel);
            }
        }

        void release() {
            if (!released) {
                released = true;
                inUse--;
                ph.h2InUse--;
                HttpUpstreams.h2StreamFreed(ph);
            }
        }
    }
}
