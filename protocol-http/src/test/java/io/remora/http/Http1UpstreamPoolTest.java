package io.remora.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.util.ReferenceCountUtil;
import io.remora.testing.TestSidecar;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 upstream pool under more concurrent h2c streams than it may open connections. */
class Http1UpstreamPoolTest {

    static final int STREAMS = 700;

    @Test
    void burstBeyondConnectionCapWaitsForFreeConnectionsInsteadOfOpeningOnePerStream() throws Exception {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        AtomicInteger open = new AtomicInteger();
        AtomicInteger maxOpen = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        TestSidecar sidecar = null;
        Channel server = null;
        Channel client = null;
        try {
            server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
                            ch.closeFuture().addListener(f -> open.decrementAndGet());
                            ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1024),
                                    new ChannelInboundHandlerAdapter() {
                                        @Override
                                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                            ReferenceCountUtil.release((FullHttpRequest) msg);
                                            served.incrementAndGet();
                                            // answered a little later: the burst really is concurrent
                                            ctx.executor().schedule(() -> {
                                                var r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                                                        HttpResponseStatus.OK, Unpooled.wrappedBuffer(new byte[]{'o', 'k'}));
                                                r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 2);
                                                ctx.writeAndFlush(r);
                                            }, 20, TimeUnit.MILLISECONDS);
                                        }
                                    });
                        }
                    }).bind("127.0.0.1", 0).sync().channel();
            int originPort = ((java.net.InetSocketAddress) server.localAddress()).getPort();
            sidecar = TestSidecar.start("""
                    {"admin":{"port":0},
                     "listeners":[{"name":"web","address":"127.0.0.1:0","protocol":"http",
                       "routes":[{"match":{"prefix":"/"},"cluster":"origin","timeout_ms":20000}]}],
                     "clusters":[{"name":"origin","hosts":[{"address":"127.0.0.1:%d"}]}]}
                    """.formatted(originPort));

            client = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build(),
                                    new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        }
                    }).connect("127.0.0.1", sidecar.port("web")).sync().channel();
            CountDownLatch done = new CountDownLatch(STREAMS);
            Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
            Channel parent = client;
            String authority = "127.0.0.1:" + sidecar.port("web");
            group.next().execute(() -> {
                for (int i = 0; i < STREAMS; i++) {
                    new Http2StreamChannelBootstrap(parent).handler(new ChannelInboundHandlerAdapter() {
                        String status;

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            boolean end = false;
                            if (msg instanceof Http2HeadersFrame h) {
                                status = status == null ? String.valueOf(h.headers().status()) : status;
                                end = h.isEndStream();
                            } else if (msg instanceof Http2DataFrame d) {
                                end = d.isEndStream();
                            }
                            ReferenceCountUtil.release(msg);
                            if (end) {
                                outcomes.computeIfAbsent(status, s -> new AtomicInteger()).incrementAndGet();
                                done.countDown();
                                ctx.close();
                            }
                        }
                    }).open().addListener(f -> {
                        Http2StreamChannel s = (Http2StreamChannel) f.getNow();
                        s.writeAndFlush(new DefaultHttp2HeadersFrame(new DefaultHttp2Headers().method("GET")
                                .scheme("http").authority(authority).path("/p"), true));
                    });
                }
            });
            assertTrue(done.await(30, TimeUnit.SECONDS), "answered: " + outcomes);
            assertEquals(Map.of("200", STREAMS), Map.copyOf(outcomes).entrySet().stream()
                    .collect(java.util.stream.Collectors.toMap(Map.Entry::getKey, e -> e.getValue().get())));
            assertEquals(STREAMS, served.get());
            assertTrue(maxOpen.get() <= HttpUpstreams.MAX_CONNECTIONS_PER_HOST,
                    "upstream connections open at once: " + maxOpen.get());
        } finally {
            if (client != null) {
                client.close().sync();
            }
            if (sidecar != null) {
                sidecar.close();
            }
            if (server != null) {
                server.close().sync();
            }
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }
}
