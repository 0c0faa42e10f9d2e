package io.remora.core.testproto;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real TCP upstream speaking {@link TestProtocol}. Behaviour by method name: {@code echo} (default) answers
 * "echo:&lt;payload&gt;", {@code sleep} answers after payload ms, {@code silent} never answers, {@code close} closes
 * the connection, {@code fail} answers with status 1 (business error).
 */
public final class TestUpstream implements AutoCloseable {

    public record Seen(long id, int timeout, String service, String method, String payload) {
    }

    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final ChannelGroup children = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final Channel server;
    public final AtomicInteger connections = new AtomicInteger();
    public final AtomicInteger heartbeats = new AtomicInteger();
    public final List<Seen> requests = new CopyOnWriteArrayList<>();
    public final List<Seen> oneways = new CopyOnWriteArrayList<>();

    public TestUpstream() throws InterruptedException {
        server = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.incrementAndGet();
                        children.add(ch);
                        ch.pipeline().addLast(new TestProtocol.Decoder(64 * 1024 * 1024), new Handler());
                    }
                }).bind("127.0.0.1", 0).sync().channel();
    }

    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    /** Sends a drain event on every open connection. */
    public void drainAll() {
        for (Channel ch : children) {
            ch.writeAndFlush(TestProtocol.frame(ch.alloc(), 5, 0, -1, 0, ""));
        }
    }

    /** Closes every accepted connection (the listener stays). */
    public void resetAll() {
        children.close().awaitUninterruptibly();
    }

    @Override
    public void close() {
        server.close().awaitUninterruptibly();
        children.close().awaitUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            TestFrame f = (TestFrame) msg;
            try {
                Seen seen = new Seen(f.requestId(), f.timeoutMillis(), f.service(), f.method(), f.payload());
                switch (f.type()) {
                    case 0 -> {
                        requests.add(seen);
                        reply(ctx, f);
                    }
                    case 2 -> oneways.add(seen);
                    case 3 -> {
                        heartbeats.incrementAndGet();
                        ctx.writeAndFlush(TestProtocol.frame(ctx.alloc(), 4, f.requestId(), -1, 0, ""));
                    }
                    default -> { }
                }
            } finally {
                f.release();
            }
        }

        private void reply(ChannelHandlerContext ctx, TestFrame f) {
            String method = f.method() == null ? "echo" : f.method();
            String body = f.service() + "|" + method + "||";
            switch (method) {
                case "silent" -> { }
                case "close" -> ctx.close();
                case "fail" -> ctx.writeAndFlush(TestProtocol.frame(ctx.alloc(), 1, f.requestId(), -1, 1,
                        body + "business error"));
                case "sleep" -> {
                    long id = f.requestId();
                    ctx.executor().schedule(() -> ctx.writeAndFlush(TestProtocol.frame(ctx.alloc(), 1, id, -1, 0,
                            body + "slept")), Long.parseLong(f.payload()), TimeUnit.MILLISECONDS);
                }
                default -> ctx.writeAndFlush(TestProtocol.frame(ctx.alloc(), 1, f.requestId(), -1, 0,
                        body + "echo:" + f.payload() + "@" + port()));
            }
        }
    }

}
