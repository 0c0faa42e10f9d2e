package io.remora.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Real Netty h2c peers for the frame-level HTTP/2 tests: a server with scripted paths and a raw stream client. */
final class H2TestPeers {

    private H2TestPeers() {
    }

    /**
     * h2c server. Paths: {@code /hello} (200 + "hello", after 20 ms), {@code /echo} (streams the body back, reading
     * only while it can write), {@code /rst-before} (RST_STREAM INTERNAL_ERROR at once), {@code /rst-mid} (head,
     * "partial", then RST_STREAM INTERNAL_ERROR), {@code /trailers} (head, "body", trailers {@code x-trailer: yes}),
     * {@code /hold} (never answers; records the reset it gets).
     */
    static final class Server implements AutoCloseable {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final Channel channel;
        final AtomicInteger active = new AtomicInteger();
        final AtomicInteger maxActive = new AtomicInteger();
        final AtomicInteger connections = new AtomicInteger();
        final AtomicLong holdBytes = new AtomicLong();
        final CountDownLatch holdStarted = new CountDownLatch(1);
        final CompletableFuture<Long> holdReset = new CompletableFuture<>();
        static final long SOURCE_BYTES = 32L << 20;

        Server(long maxConcurrentStreams) throws InterruptedException {
            channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            connections.incrementAndGet();
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forServer()
                                    .initialSettings(Http2Settings.defaultSettings()
                                            .maxConcurrentStreams(maxConcurrentStreams))
                                    .build());
                            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInitializer<Http2StreamChannel>() {
                                @Override
                                protected void initChannel(Http2StreamChannel sc) {
                                    sc.pipeline().addLast(new StreamHandler());
                                }
                            }));
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
        }

        int port() {
            return ((InetSocketAddress) channel.localAddress()).getPort();
        }

        private final class StreamHandler extends ChannelInboundHandlerAdapter {
            String path;
            boolean counted;

            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                    if (msg instanceof Http2HeadersFrame h && path == null) {
                        path = h.headers().path().toString();
                        counted = true;
                        int now = active.incrementAndGet();
                        maxActive.accumulateAndGet(now, Math::max);
                        onHead(ctx, h.isEndStream());
                    } else if (msg instanceof Http2DataFrame d) {
                        onData(ctx, d);
                    }
                } finally {
                    ReferenceCountUtil.release(msg);
                }
            }

            /** RST_STREAM reaches a stream channel as a user event. */
            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                if (evt instanceof Http2ResetFrame r && "/hold".equals(path)) {
                    holdReset.complete(r.errorCode());
                }
            }

            long sinkBytes;
            long sourceLeft;

            private void pump(Channel ch) {
                while (sourceLeft > 0 && ch.isWritable()) {
                    int n = (int) Math.min(16384, sourceLeft);
                    sourceLeft -= n;
                    ch.write(new DefaultHttp2DataFrame(ch.alloc().buffer(n).writeZero(n), sourceLeft == 0));
                }
                ch.flush();
            }

            private void onHead(ChannelHandlerContext ctx, boolean end) {
                Channel ch = ctx.channel();
                switch (path) {
                    case "/hello" -> ch.eventLoop().schedule(() -> {
                        ch.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                        ch.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("hello",
                                StandardCharsets.UTF_8), true));
                    }, 20, TimeUnit.MILLISECONDS);
                    case "/echo" -> ch.writeAndFlush(new DefaultHttp2HeadersFrame(
                            new DefaultHttp2Headers().status("200"), end));
                    case "/source" -> {
                        sourceLeft = SOURCE_BYTES;
                        ch.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                        pump(ch);
                    }
                    case "/sink" -> {
                        if (end) {
                            sinkEnd(ch);
                        }
                    }
                    case "/rst-before" -> ch.writeAndFlush(new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR));
                    case "/rst-mid" -> {
                        ch.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                        ch.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("partial",
                                StandardCharsets.UTF_8), false));
                        ch.eventLoop().schedule(() -> ch.writeAndFlush(
                                new DefaultHttp2ResetFrame(Http2Error.INTERNAL_ERROR)), 50, TimeUnit.MILLISECONDS);
                    }
                    case "/trailers" -> {
                        ch.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                        ch.write(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("body", StandardCharsets.UTF_8)));
                        ch.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers()
                                .set("x-trailer", "yes").set("grpc-status", "0"), true));
                    }
                    case "/hold" -> holdStarted.countDown();
                    default -> ch.writeAndFlush(new DefaultHttp2HeadersFrame(
                            new DefaultHttp2Headers().status("404"), true));
                }
            }

            private void onData(ChannelHandlerContext ctx, Http2DataFrame d) {
                Channel ch = ctx.channel();
                if ("/hold".equals(path)) {
                    holdBytes.addAndGet(d.content().readableBytes());
                    return;
                }
                if ("/sink".equals(path)) {
                    sinkBytes += d.content().readableBytes();
                    if (d.isEndStream()) {
                        sinkEnd(ch);
                    }
                    return;
                }
                if ("/echo".equals(path)) {
                    ch.write(new DefaultHttp2DataFrame(d.content().retain(), d.isEndStream()));
                    if (!ch.isWritable()) {
                        ch.config().setAutoRead(false); // read on only as fast as the caller takes the echo
                    }
                }
            }

            private void sinkEnd(Channel ch) {
                ch.write(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().status("200")));
                ch.writeAndFlush(new DefaultHttp2DataFrame(Unpooled.copiedBuffer("received=" + sinkBytes,
                        StandardCharsets.UTF_8), true));
            }

            @Override
            public void channelReadComplete(ChannelHandlerContext ctx) {
                ctx.flush();
            }

            @Override
            public void channelWritabilityChanged(ChannelHandlerContext ctx) {
                if (ctx.channel().isWritable()) {
                    ctx.channel().config().setAutoRead(true);
                    if (sourceLeft > 0) {
                        pump(ctx.channel());
                    }
                }
            }

            @Override
            public void channelInactive(ChannelHandlerContext ctx) {
                if (counted) {
                    active.decrementAndGet();
                }
            }
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    /** What came back on one client stream. */
    static final class Result {
        volatile Http2Headers head;
        volatile Http2Headers trailers;
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        final CompletableFuture<Result> done = new CompletableFuture<>();
        volatile long resetCode = -1;
        volatile long bodyBytes;

        String bodyText() {
            synchronized (body) {
                return body.toString(StandardCharsets.UTF_8);
            }
        }
    }

    /** An h2c client on one connection; each call opens a stream (child channel: test code only). */
    static final class Client implements AutoCloseable {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        final Channel channel;

        Client(int port) throws InterruptedException {
            channel = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                            ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    }).connect("127.0.0.1", port).sync().channel();
        }

        /** Opens a stream and sends the head; {@code keepBody}: record body bytes (else count only). */
        Http2StreamChannel open(String method, String path, boolean endStream, Result r, boolean keepBody)
                throws Exception {
            Http2StreamChannel s = new Http2StreamChannelBootstrap(channel).handler(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    try {
                        if (msg instanceof Http2HeadersFrame h) {
                            if (r.head == null) {
                                r.head = h.headers();
                            } else {
                                r.trailers = h.headers();
                            }
                            if (h.isEndStream()) {
                                r.done.complete(r);
                            }
                        } else if (msg instanceof Http2DataFrame d) {
                            ByteBuf c = d.content();
                            r.bodyBytes += c.readableBytes();
                            if (keepBody) {
                                synchronized (r.body) {
                                    c.readBytes(r.body, c.readableBytes());
                                }
                            }
                            if (d.isEndStream()) {
                                r.done.complete(r);
                            }
                        }
                    } catch (java.io.IOException e) {
                        r.done.completeExceptionally(e);
                    } finally {
                        ReferenceCountUtil.release(msg);
                    }
                }

                @Override
                public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                    if (evt instanceof Http2ResetFrame rst) {
                        r.resetCode = rst.errorCode();
                        r.done.complete(r);
                    }
                }

                @Override
                public void channelInactive(ChannelHandlerContext ctx) {
                    r.done.complete(r);
                }
            }).open().get(5, TimeUnit.SECONDS);
            Http2Headers h = new DefaultHttp2Headers().method(method).path(path).scheme("http")
                    .authority("up.test");
            s.writeAndFlush(new DefaultHttp2HeadersFrame(h, endStream)).sync();
            return s;
        }

        Result get(String path) throws Exception {
            Result r = new Result();
            open("GET", path, true, r, true);
            return r;
        }

        @Override
        public void close() {
            channel.close().syncUninterruptibly();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }
}
