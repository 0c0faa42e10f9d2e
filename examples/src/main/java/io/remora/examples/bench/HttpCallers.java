package io.remora.examples.bench;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.AttributeKey;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Netty clients for the HTTP scenarios (HTTP/1.1 keep-alive, one request in flight per connection, later ones queued
 * per connection; h2c prior knowledge, a new stream per call; gRPC unary over h2c) and a gRPC origin.
 */
final class HttpCallers {

    private static final int WINDOW = 16 << 20;

    private HttpCallers() {
    }

    static EventLoopGroup newGroup(int threads) {
        return new MultiThreadIoEventLoopGroup(threads, NioIoHandler.newFactory());
    }

    /**
     * GET {@code path} over {@code connections} HTTP/1.1 connections. A connection the server closes (or ends with
     * {@code Connection: close}) is reopened for the calls queued on it, as a keep-alive client pool does.
     */
    static AsyncCaller http1(EventLoopGroup group, int port, int connections, String path) throws InterruptedException {
        List<H1Conn> conns = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            H1Conn c = new H1Conn(path, port);
            c.bootstrap = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 24), c);
                        }
                    });
            c.channel = c.bootstrap.connect("127.0.0.1", port).sync().channel();
            c.usable = true;
            conns.add(c);
        }
        AtomicInteger next = new AtomicInteger();
        return new AsyncCaller() {
            @Override
            public void call(Done done) {
                H1Conn c = conns.get(Math.floorMod(next.getAndIncrement(), conns.size()));
                c.loop.execute(() -> c.enqueue(done));
            }

            @Override
            public long reconnects() {
                return conns.stream().mapToLong(c -> c.reconnects).sum();
            }

            @Override
            public void close() {
                conns.forEach(c -> c.loop.execute(() -> c.closed = true));
                conns.forEach(c -> c.channel.close().syncUninterruptibly());
            }
        };
    }

    /** One keep-alive connection; every field is touched on its event loop only (it stays on one across reconnects). */
    @ChannelHandler.Sharable
    private static final class H1Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
        private final String path;
        private final String host;
        private final int port;
        private final ArrayDeque<AsyncCaller.Done> queue = new ArrayDeque<>();
        private AsyncCaller.Done current;
        Bootstrap bootstrap;
        Channel channel;
        EventLoop loop;
        /** Open and not told to close: requests may go out on it. */
        boolean usable;
        boolean connecting;
        boolean closed;
        volatile long reconnects;

        H1Conn(String path, int port) {
            this.path = path;
            this.port = port;
            this.host = "127.0.0.1:" + port;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            loop = ctx.channel().eventLoop();
        }

        void enqueue(AsyncCaller.Done d) {
            if (usable && current == null) {
                send(d);
                return;
            }
            queue.add(d);
            if (!usable) {
                reconnect();
            }
        }

        private void reconnect() {
            if (connecting || closed) {
                return;
            }
            connecting = true;
            reconnects++;
            bootstrap.clone(loop).connect("127.0.0.1", port).addListener((ChannelFutureListener) f -> {
                connecting = false;
                if (!f.isSuccess()) {
                    failAll(f.cause());
                    return;
                }
                channel = f.channel();
                usable = true;
                AsyncCaller.Done n = queue.poll();
                if (n != null) {
                    send(n);
                }
            });
        }

        private void send(AsyncCaller.Done d) {
            current = d;
            DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
            req.headers().set(HttpHeaderNames.HOST, host);
            channel.writeAndFlush(req, channel.voidPromise());
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse msg) {
            AsyncCaller.Done d = current;
            current = null;
            if (!HttpUtil.isKeepAlive(msg)) {
                usable = false; // the server closes after this response: the next request needs a new connection
            }
            if (d != null) {
                if (msg.status().code() == 200) {
                    d.ok();
                } else {
                    d.failed(new IllegalStateException("HTTP " + msg.status()));
                }
            }
            if (queue.isEmpty()) {
                return;
            }
            if (usable) {
                send(queue.poll());
            } else {
                reconnect();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (ctx.channel() != channel) {
                return; // an earlier connection of this slot
            }
            usable = false;
            if (current != null) {
                current.failed(new IllegalStateException("connection closed with a request in flight"));
                current = null;
            }
            if (!queue.isEmpty()) {
                reconnect();
            }
        }

        private void failAll(Throwable e) {
            for (AsyncCaller.Done d; (d = queue.poll()) != null; ) {
                d.failed(e);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

    /**
     * h2c prior knowledge: GET {@code path}, or with {@code grpcBody} a gRPC unary POST carrying that message. A
     * connection that got GOAWAY (or closed) takes no new stream: the next call opens a new connection, as h2 clients do.
     */
    static AsyncCaller http2(EventLoopGroup group, int port, int connections, String path, byte[] grpcBody)
            throws InterruptedException {
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                .initialSettings(Http2Settings.defaultSettings().initialWindowSize(WINDOW)
                                        .pushEnabled(false))
                                .build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(GoAwayWatch.INSTANCE);
                    }
                });
        List<H2Slot> slots = new ArrayList<>();
        for (int i = 0; i < connections; i++) {
            H2Slot slot = new H2Slot(b, port);
            slot.channel = b.connect("127.0.0.1", port).sync().channel();
            slot.channel.writeAndFlush(new DefaultHttp2WindowUpdateFrame(WINDOW));
            slots.add(slot);
        }
        String authority = "127.0.0.1:" + port;
        ByteBuf body = grpcBody == null ? null : Unpooled.unreleasableBuffer(grpcFrame(grpcBody));
        AtomicInteger next = new AtomicInteger();
        return new AsyncCaller() {
            @Override
            public void call(Done done) {
                H2Slot slot = slots.get(Math.floorMod(next.getAndIncrement(), slots.size()));
                Channel parent = slot.channel;
                if (parent.isActive() && !GoAwayWatch.goneAway(parent)) {
                    open(parent, done);
                } else {
                    slot.fresh().addListener((ChannelFutureListener) f -> {
                        if (f.isSuccess()) {
                            open(f.channel(), done);
                        } else {
                            done.failed(f.cause());
                        }
                    });
                }
            }

            private void open(Channel parent, Done done) {
                new Http2StreamChannelBootstrap(parent).handler(new H2Stream(done, body != null)).open()
                        .addListener(f -> {
                            if (!f.isSuccess()) {
                                done.failed(f.cause());
                                return;
                            }
                            Http2StreamChannel s = (Http2StreamChannel) f.getNow();
                            Http2Headers h = new DefaultHttp2Headers().scheme("http").authority(authority).path(path);
                            if (body == null) {
                                s.writeAndFlush(new DefaultHttp2HeadersFrame(h.method("GET"), true));
                            } else {
                                h.method("POST").set("content-type", "application/grpc").set("te", "trailers");
                                s.write(new DefaultHttp2HeadersFrame(h, false));
                                s.writeAndFlush(new DefaultHttp2DataFrame(body.duplicate(), true));
                            }
                        });
            }

            @Override
            public long reconnects() {
                return slots.stream().mapToLong(s -> s.reconnects).sum();
            }

            @Override
            public void close() {
                slots.forEach(s -> s.channel.close().syncUninterruptibly());
            }
        };
    }

    /** One h2 connection of a caller, replaced by a new one after GOAWAY or close. */
    private static final class H2Slot {
        private final Bootstrap bootstrap;
        private final int port;
        volatile Channel channel;
        private ChannelFuture pending;
        volatile long reconnects;

        H2Slot(Bootstrap bootstrap, int port) {
            this.bootstrap = bootstrap;
            this.port = port;
        }

        /** The connection being opened to replace the current one (one at a time, shared by the calls waiting). */
        synchronized ChannelFuture fresh() {
            Channel c = channel;
            if (c.isActive() && !GoAwayWatch.goneAway(c)) {
                return c.newSucceededFuture();
            }
            if (pending == null) {
                reconnects++;
                ChannelFuture f = bootstrap.connect("127.0.0.1", port);
                pending = f;
                f.addListener((ChannelFutureListener) done -> {
                    synchronized (H2Slot.this) {
                        if (done.isSuccess()) {
                            done.channel().writeAndFlush(new DefaultHttp2WindowUpdateFrame(WINDOW));
                            channel = done.channel();
                        }
                        pending = null;
                    }
                });
            }
            return pending;
        }
    }

    /** Marks a connection that got GOAWAY: it finishes its streams but takes no new one. */
    @ChannelHandler.Sharable
    private static final class GoAwayWatch extends ChannelInboundHandlerAdapter {
        static final GoAwayWatch INSTANCE = new GoAwayWatch();
        private static final AttributeKey<Boolean> GONE = AttributeKey.valueOf("bench.h2.goaway");

        static boolean goneAway(Channel c) {
            return c.hasAttr(GONE);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof Http2GoAwayFrame) {
                ctx.channel().attr(GONE).set(Boolean.TRUE);
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2GoAwayFrame) {
                ctx.channel().attr(GONE).set(Boolean.TRUE);
            }
            ReferenceCountUtil.release(evt);
        }
    }

    static ByteBuf grpcFrame(byte[] message) {
        ByteBuf b = Unpooled.buffer(5 + message.length);
        b.writeByte(0).writeInt(message.length).writeBytes(message);
        return b;
    }

    private static final class H2Stream extends ChannelInboundHandlerAdapter {
        private final AsyncCaller.Done done;
        private final boolean grpc;
        private boolean finished;
        private String status;

        H2Stream(AsyncCaller.Done done, boolean grpc) {
            this.done = done;
            this.grpc = grpc;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            try {
                boolean end = false;
                if (msg instanceof Http2HeadersFrame h) {
                    if (status == null) {
                        status = String.valueOf(h.headers().status());
                    }
                    CharSequence gs = h.headers().get("grpc-status");
                    if (gs != null && !"0".contentEquals(gs)) {
                        status = "grpc-status " + gs;
                    }
                    end = h.isEndStream();
                } else if (msg instanceof Http2DataFrame d) {
                    end = d.isEndStream();
                }
                if (end) {
                    finish(ctx, "200".equals(status) ? null : new IllegalStateException("status " + status));
                }
            } finally {
                ReferenceCountUtil.release(msg);
            }
        }

        private void finish(ChannelHandlerContext ctx, Throwable error) {
            if (finished) {
                return;
            }
            finished = true;
            if (error == null) {
                done.ok();
            } else {
                done.failed(error);
            }
            ctx.close();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            finish(ctx, new IllegalStateException("stream closed early (" + status + ")"));
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            finish(ctx, cause);
        }
    }

    /** A minimal gRPC origin: every unary call is answered with a message as large as the request's, grpc-status 0. */
    static AutoCloseable grpcOrigin(int port) throws InterruptedException {
        EventLoopGroup group = newGroup(1);
        java.util.Map<Integer, ByteBuf> replies = new java.util.concurrent.ConcurrentHashMap<>();
        Channel server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                                .initialSettings(Http2Settings.defaultSettings().initialWindowSize(WINDOW)
                                        .maxConcurrentStreams(10_000))
                                .build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Channel>() {
                            @Override
                            protected void initChannel(Channel stream) {
                                stream.pipeline().addLast(new GrpcEcho(replies));
                            }
                        }));
                    }
                }).bind("127.0.0.1", port).sync().channel();
        return () -> {
            server.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        };
    }

    private static final class GrpcEcho extends ChannelInboundHandlerAdapter {
        private final java.util.Map<Integer, ByteBuf> replies;
        private int size = -1;

        GrpcEcho(java.util.Map<Integer, ByteBuf> replies) {
            this.replies = replies;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (size < 0 && msg instanceof Http2DataFrame d && d.content().readableBytes() >= 5) {
                size = d.content().getInt(d.content().readerIndex() + 1);
            }
            ByteBuf reply = replies.computeIfAbsent(Math.max(0, size),
                    n -> Unpooled.unreleasableBuffer(grpcFrame(new byte[n])));
            boolean end = msg instanceof Http2HeadersFrame h ? h.isEndStream()
                    : msg instanceof Http2DataFrame d && d.isEndStream();
            ReferenceCountUtil.release(msg);
            if (end) {
                ctx.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")
                        .set("content-type", "application/grpc")));
                ctx.write(new DefaultHttp2DataFrame(reply.duplicate(), false));
                ctx.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().set("grpc-status", "0"), true));
            }
        }
    }
}
