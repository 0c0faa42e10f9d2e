package io.remora.core.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.metrics.HostMetrics;
import io.remora.core.protocol.ProxyError;
import io.remora.core.transport.Transport;
import java.util.ArrayDeque;

/**
 * One multiplexed h2c (prior knowledge) connection to an upstream host, owned by one event loop: every exchange
 * gets its own stream. Streams waiting for the connection and streams open are bounded together by the cluster's
 * {@code max_pending_requests}.
 */
final class Http2Upstream extends ChannelInboundHandlerAdapter {

    private enum State { CONNECTING, ACTIVE, CLOSED }

    private final HttpUpstreams pool;
    private final EventLoop loop;
    private final Cluster cluster;
    private final Host host;
    private final HostMetrics hostMetrics;
    private final ArrayDeque<HttpExchange> waiting = new ArrayDeque<>();
    private Channel channel;
    private State state = State.CONNECTING;
    private int streams;
    private Http2StreamChannelBootstrap streamBootstrap;
    /** {@code @Sharable} (per-stream state lives in channel attributes): one for every stream. */
    private static final Http2StreamFrameToHttpObjectCodec TO_HTTP = new Http2StreamFrameToHttpObjectCodec(false, false);

    Http2Upstream(HttpUpstreams pool, EventLoop loop, Cluster cluster, Host host) {
        this.pool = pool;
        this.loop = loop;
        this.cluster = cluster;
        this.host = host;
        this.hostMetrics = cluster.metrics().host(host.address());
    }

    boolean usable() {
        return state != State.CLOSED;
    }

    void connect() {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(Transport.get().socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) cluster.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("h2-codec", Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)
                                        .initialWindowSize(HttpPipelines.STREAM_WINDOW)
                                        .maxHeaderListSize(HttpUpstreams.MAX_RESPONSE_HEADER_BYTES))
                                .build());
                        ch.pipeline().addLast("h2-mux", new Http2MultiplexHandler(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                ReferenceCountUtil.release(msg);
                            }
                        }));
                        ch.pipeline().addLast("upstream", Http2Upstream.this);
                    }
                });
        ChannelFuture f = b.connect(host.socketAddress());
        channel = f.channel();
        f.addListener(done -> onConnected(f));
    }

    private void onConnected(ChannelFuture f) {
        if (f.isSuccess() && state == State.CONNECTING) {
            state = State.ACTIVE;
            host.markConnected();
            hostMetrics.opened();
            Http2Downstream.growConnectionWindow(channel.pipeline().context(this));
            HttpExchange ex;
            while ((ex = waiting.poll()) != null) {
                openStream(ex);
            }
            return;
        }
        if (state == State.CONNECTING) {
            state = State.CLOSED;
            pool.removeH2(host, this);
            host.markConnectFailure(System.nanoTime());
            hostMetrics.connectFailed();
            String reason = f.cause() == null ? "unknown" : f.cause().getMessage();
            HttpExchange.log.warn("cannot connect to upstream {} (h2c): {}", host, reason);
            HttpExchange ex;
            while ((ex = waiting.poll()) != null) {
                ex.upstreamFailed(ProxyError.UPSTREAM_CONNECT_FAILURE, "cannot connect to upstream "
                        + host.address() + " of cluster " + cluster.name() + ": " + reason);
                ex.flushDownstream();
            }
        }
    }

    void open(HttpExchange ex) {
        if (streams + waiting.size() >= cluster.maxPendingRequests()) {
            ex.fail(ProxyError.OVERFLOW, "upstream overflow: " + (streams + waiting.size())
                    + " streams pending on " + host.address() + " of cluster " + cluster.name());
            return;
        }
        if (state == State.CONNECTING) {
            waiting.add(ex);
        } else {
            openStream(ex);
        }
    }

    private void openStream(HttpExchange ex) {
        if (ex.isDone()) {
            return;
        }
        streams++;
        StreamLink link = new StreamLink(host, hostMetrics);
        // one bootstrap per connection: open() takes the handler synchronously on this loop
        Http2StreamChannelBootstrap b = streamBootstrap;
        if (b == null) {
            b = streamBootstrap = new Http2StreamChannelBootstrap(channel);
        }
        Future<Http2StreamChannel> f = b.handler(link).open();
        f.addListener(done -> {
            if (f.isSuccess()) {
                ex.upstreamReady(link);
            } else {
                streams--;
                ex.upstreamFailed(ProxyError.UPSTREAM_RESET, "cannot open a stream to upstream " + host.address()
                        + ": " + f.cause());
            }
            ex.flushDownstream();
        });
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2GoAwayFrame) {
            draining(); // streams already open finish; new ones go to a new connection
        }
        ReferenceCountUtil.release(msg);
    }

    private void draining() {
        if (state == State.ACTIVE) {
            state = State.CLOSED;
            pool.removeH2(host, this);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        boolean wasActive = state == State.ACTIVE || streams > 0;
        draining();
        state = State.CLOSED;
        if (wasActive) {
            hostMetrics.closed(streams > 0);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        HttpExchange.log.debug("h2c upstream {} failed: {}", host, cause.toString());
        ctx.close();
    }

    /** One stream: closed (reset if unfinished) when its exchange is done. */
    final class StreamLink extends UpstreamLink {
        private boolean counted = true;

        StreamLink(Host host, HostMetrics hm) {
            super(host, hm);
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            super.handlerAdded(ctx);
            ctx.pipeline().addBefore(ctx.name(), null, TO_HTTP); // no per-stream initializer and codec
        }

        @Override
        boolean http2() {
            return true;
        }

        @Override
        void finished(boolean reusable) {
            exchange = null;
            release();
            if (channel != null && channel.isActive()) {
                channel.close();
            }
        }

        @Override
        void closed() {
            release();
        }

        private void release() {
            if (counted) {
                counted = false;
                streams--;
            }
        }
    }
}
