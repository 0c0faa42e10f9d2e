package io.remora.core.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.remora.core.transport.Transport;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server (default 127.0.0.1:34901). Runs on its own single thread, never on a request event loop.
 * Endpoints are registered by path; bodies are limited to 8 MiB (rule imports).
 */
public final class AdminServer implements AdminRoutes {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    private static final int MAX_BODY = 8 * 1024 * 1024;

    private final Map<String, Map<String, AdminHandler>> routes = new ConcurrentHashMap<>();
    private EventLoopGroup group;
    private Channel channel;
    private volatile int inheritedFd = -1;
    private final io.netty.channel.group.ChannelGroup connections = new io.netty.channel.group.DefaultChannelGroup(
            "admin", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

    /**
     * Upgrade hook: the next {@link #start} adopts the listening socket {@code fd} handed over by the previous process
     * instead of binding, and does not accept on it until {@link #resumeAccepting()} (connections wait in the kernel's
     * accept queue meanwhile). Epoll only.
     */
    public void inherit(int fd) {
        inheritedFd = fd;
    }

    /** Upgrade hook: starts accepting on an inherited socket. */
    public void resumeAccepting() {
        Channel ch = channel;
        if (ch != null) {
            ch.config().setAutoRead(true);
        }
    }

    /**
     * Upgrade hook on the old process, once the new one holds the socket: stops accepting (closes this process's copy
     * of the listening socket) and closes its open admin connections so keep-alive clients reconnect to the new one.
     */
    public void handOff() {
        Channel ch = channel;
        if (ch != null) {
            ch.close().awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
        }
        connections.close().awaitUninterruptibly(2, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** The listening channel (its fd is handed over on upgrade), or null before start. */
    public Channel channel() {
        return channel;
    }

    @Override
    public void register(String method, String path, AdminHandler handler) {
        routes.computeIfAbsent(path, p -> new ConcurrentHashMap<>()).put(method.toUpperCase(), handler);
    }

    /** Binds the admin port. */
    public InetSocketAddress start(InetSocketAddress address) throws Exception {
        group = Transport.get().newGroup(1, "remora-admin");
        ServerBootstrap b = new ServerBootstrap()
                .group(group)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(4096, 16 * 1024, 16 * 1024));
                        ch.pipeline().addLast(new HttpObjectAggregator(MAX_BODY));
                        ch.pipeline().addLast(new Handler());
                    }
                });
        int fd = inheritedFd;
        if (fd >= 0) {
            inheritedFd = -1;
            try {
                io.netty.channel.ServerChannel adopted = Transport.get().adoptServerChannel(fd);
                channel = b.clone().channelFactory(() -> adopted).option(ChannelOption.AUTO_READ, false).register().sync()
                        .channel();
                log.info("admin port {} adopted from the previous process (accepting once the upgrade completes)",
                        channel.localAddress());
                return (InetSocketAddress) channel.localAddress();
            } catch (Exception e) {
                log.warn("cannot adopt the inherited admin socket fd {}: {}; binding instead", fd, e.toString());
            }
        }
        try {
            channel = b.channel(Transport.get().serverChannelClass()).bind(address).sync().channel();
        } catch (Exception e) {
            group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS);
            throw new IllegalStateException("cannot bind admin port " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + e.getMessage(), e);
        }
        return (InetSocketAddress) channel.localAddress();
    }

    public InetSocketAddress address() {
        return channel == null ? null : (InetSocketAddress) channel.localAddress();
    }

    public void stop() {
        if (channel != null) {
            channel.close().awaitUninterruptibly();
        }
        if (group != null) {
            group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            AdminResponse resp;
            if (!req.decoderResult().isSuccess()) {
                resp = AdminResponse.error(400, "bad request: " + req.decoderResult().cause());
            } else {
                resp = dispatch(req);
            }
            ByteBuf body = Unpooled.copiedBuffer(resp.body(), StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(resp.status()), body);
            r.headers().set(HttpHeaderNames.CONTENT_TYPE, resp.contentType());
            r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
            boolean keepAlive = HttpUtil.isKeepAlive(req);
            if (keepAlive) {
                r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                ctx.writeAndFlush(r);
            } else {
                ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
            }
        }

        private AdminResponse dispatch(FullHttpRequest req) {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            Map<String, AdminHandler> byMethod = routes.get(q.path());
            if (byMethod == null) {
                return AdminResponse.error(404, "no admin endpoint " + q.path() + "; known: "
                        + new TreeMap<>(routes).keySet());
            }
            String method = req.method().name();
            AdminHandler h = byMethod.get(method);
            if (h == null) {
                h = byMethod.get("*");
            }
            if (h == null && method.equals("HEAD")) {
                h = byMethod.get("GET");
            }
            if (h == null) {
                return AdminResponse.error(405, method + " not allowed on " + q.path() + " (allowed: "
                        + byMethod.keySet() + ")");
            }
            Map<String, List<String>> params = q.parameters();
            String body = req.content().toString(StandardCharsets.UTF_8);
            try {
                return h.handle(new AdminRequest(method, q.path(), params, body));
            } catch (IllegalArgumentException e) {
                return AdminResponse.error(400, e.getMessage());
            } catch (Exception e) {
                log.error("admin endpoint {} failed", q.path(), e);
                return AdminResponse.error(500, "internal error: " + e);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection error: {}", cause.toString());
            ctx.close();
        }
    }
}
