package io.remora.http.testing;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP/2 prior-knowledge (h2c) client on Netty that behaves like a client library's pool: requests share one
 * connection until it receives GOAWAY or closes, then the next request opens a new one. Records every GOAWAY.
 */
public final class H2cClient implements AutoCloseable {

    /** A response, with the number (1, 2, ...) of the connection and the stream id it came on. */
    public record Response(int status, String body, int connection, int stream, String header) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final InetSocketAddress address;
    private final String headerName;
    private final AtomicInteger connections = new AtomicInteger();
    /** Last-stream-id of every GOAWAY received, in order. */
    public final List<Integer> goAways = new CopyOnWriteArrayList<>();
    private final List<Conn> all = new CopyOnWriteArrayList<>();
    private Conn current;

    /** {@code headerName}: a response header to report in {@link Response#header()} (may be null). */
    public H2cClient(int port, String headerName) {
        this.address = new InetSocketAddress("127.0.0.1", port);
        this.headerName = headerName;
    }

    /** Connections opened so far. */
    public int connections() {
        return connections.get();
    }

    private static final class Conn {
        final int number;
        Channel channel;
        volatile boolean goneAway;

        Conn(int number) {
            this.number = number;
        }
    }

    /** Sends {@code GET path}; the future fails if the stream ends without a response. */
    public synchronized CompletableFuture<Response> get(String path) throws Exception {
        Conn c = current;
        if (c == null || c.goneAway || !c.channel.isActive()) {
            c = connect();
            current = c;
        }
        Conn conn = c;
        CompletableFuture<Response> result = new CompletableFuture<>();
        Http2StreamChannel stream = new Http2StreamChannelBootstrap(conn.channel)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false));
                        ch.pipeline().addLast(new HttpObjectAggregator(1 << 20));
                        ch.pipeline().addLast(new SimpleChannelInboundHandler<FullHttpResponse>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse r) {
                                result.complete(new Response(r.status().code(),
                                        r.content().toString(StandardCharsets.UTF_8), conn.number,
                                        ((Http2StreamChannel) ctx.channel()).stream().id(),
                                        headerName == null ? null : r.headers().get(headerName)));
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                result.completeExceptionally(new IOException("stream " + ctx.channel()
                                        + " closed without a response"));
                            }

                            @Override
                            public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                result.completeExceptionally(cause);
                                ctx.close();
                            }
                        });
                    }
                }).open().get(5, TimeUnit.SECONDS);
        DefaultFullHttpRequest req = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, path);
        req.headers().set(HttpHeaderNames.HOST, address.getHostString() + ":" + address.getPort());
        stream.writeAndFlush(req);
        return result;
    }

    private Conn connect() throws Exception {
        Conn conn = new Conn(connections.incrementAndGet());
        Bootstrap b = new Bootstrap().group(group).channel(NioSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(Http2FrameCodecBuilder.forClient().build());
                        ch.pipeline().addLast(new Http2MultiplexHandler(new ChannelInboundHandlerAdapter()));
                        ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                            @Override
                            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                if (msg instanceof Http2GoAwayFrame g) {
                                    conn.goneAway = true;
                                    goAways.add(g.lastStreamId());
                                }
                                ReferenceCountUtil.release(msg);
                            }
                        });
                    }
                });
        var f = b.connect(address);
        if (!f.await(5, TimeUnit.SECONDS) || !f.isSuccess()) {
            throw new IOException("cannot connect to " + address, f.cause());
        }
        conn.channel = f.channel();
        all.add(conn);
        return conn;
    }

    /** True once the connection {@code number} (1, 2, ...) is closed. */
    public boolean closed(int number) {
        return !all.get(number - 1).channel.isActive();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    }
}
