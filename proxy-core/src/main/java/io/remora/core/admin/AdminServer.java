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
import io.netty.channel.ServerChannel;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.socket.nio.NioServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP server (default 127.0.0.1:34901, and/or a Unix domain socket). Runs on its own single thread, never
 * on a request event loop. Endpoints are registered by path; bodies are limited to 8 MiB (rule imports). With a token
 * configured, every mutating request (any method but GET and HEAD) must carry {@code Authorization: Bearer <token>}.
 */
public final class AdminServer implements AdminRoutes {

    private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
    /** Mutations and refusals are an audit trail: recorded whatever default.log's level. */
    private static final Logger audit = LoggerFactory.getLogger("io.remora.startup");
    private static final int MAX_BODY = 8 * 1024 * 1024;
    /** Kubelet exec probes and load balancers carry no token: these stay open even with token_required_for_reads. */
    private static final Set<String> PROBES = Set.of("/ready", "/api/v1/ready", "/healthz");

    private final Map<String, Map<String, AdminHandler>> routes = new ConcurrentHashMap<>();
    private final Map<String, String> help = new ConcurrentHashMap<>();
    private final Map<String, BooleanSupplier> features = Collections.synchronizedMap(new LinkedHashMap<>());
    private final Map<String, LongSupplier> stats = Collections.synchronizedMap(new LinkedHashMap<>());
    private EventLoopGroup group;
    private Channel channel;
    private Channel unixChannel;
    private Path unixPath;
    /** The socket file we renamed into place: only it is ours to delete (a new process renames its own over it). */
    private Object unixFileKey;
    private volatile int inheritedFd = -1;
    private volatile byte[] token;
    private volatile boolean tokenForReads;
    private final io.netty.channel.group.ChannelGroup connections = new io.netty.channel.group.DefaultChannelGroup(
            "admin", io.netty.util.concurrent.GlobalEventExecutor.INSTANCE);

    /**
     * Requires {@code Authorization: Bearer <token>} on mutating requests, and on reads too when {@code forReads}
     * (except the health probes {@code /ready}, {@code /api/v1/ready}, {@code /healthz}). Null turns it off.
     */
    public void protect(String token, boolean forReads) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
        this.tokenForReads = token != null && forReads;
    }

    /** True when a token guards this server. */
    public boolean protectedByToken() {
        return token != null;
    }

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
            ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        }
        closeUnixSocket();
        connections.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
    }

    /** The TCP listening channel (its fd is handed over on upgrade), or null before start or without TCP. */
    public Channel channel() {
        return channel;
    }

    @Override
    public void register(String method, String path, AdminHandler handler) {
        routes.computeIfAbsent(path, p -> new ConcurrentHashMap<>()).put(method.toUpperCase(), handler);
    }

    @Override
    public void register(String method, String path, String helpText, AdminHandler handler) {
        register(method, path, handler);
        help.put(path, helpText);
    }

    @Override
    public void registerFeature(String name, BooleanSupplier enabled) {
        features.put(name, enabled);
    }

    @Override
    public void registerStat(String name, LongSupplier value) {
        stats.put(name, value);
    }

    /** Every registered path with its methods, sorted (for the help pages). */
    public Map<String, Set<String>> paths() {
        Map<String, Set<String>> m = new TreeMap<>();
        routes.forEach((p, byMethod) -> m.put(p, new TreeSet<>(byMethod.keySet())));
        return m;
    }

    /** The one-line description of {@code path}, or null. */
    public String help(String path) {
        return help.get(path);
    }

    /** Feature switches contributed with {@link #registerFeature}, in registration order. */
    public Map<String, Boolean> contributedFeatures() {
        Map<String, Boolean> m = new LinkedHashMap<>();
        synchronized (features) {
            features.forEach((k, v) -> m.put(k, v.getAsBoolean()));
        }
        return m;
    }

    /** Stats contributed with {@link #registerStat}, in registration order. */
    public Map<String, Long> contributedStats() {
        Map<String, Long> m = new LinkedHashMap<>();
        synchronized (stats) {
            stats.forEach((k, v) -> m.put(k, v.getAsLong()));
        }
        return m;
    }

    private synchronized EventLoopGroup group() {
        if (group == null) {
            group = Transport.get().newGroup(1, "remora-admin");
        }
        return group;
    }

    private ServerBootstrap bootstrap() {
        return new ServerBootstrap()
                .group(group())
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(4096, 16 * 1024, 16 * 1024));
                        ch.pipeline().addLast(new HttpObjectAggregator(MAX_BODY));
                        ch.pipeline().addLast(new Handler());
                    }
                });
    }

    /** Binds the admin port. */
    public InetSocketAddress start(InetSocketAddress address) throws Exception {
        ServerBootstrap b = bootstrap().option(ChannelOption.SO_REUSEADDR, true);
        int fd = inheritedFd;
        if (fd >= 0) {
            inheritedFd = -1;
            try {
                io.netty.channel.ServerChannel adopted = Transport.get().adoptServerChannel(fd);
                channel = b.clone().channelFactory(() -> adopted).option(ChannelOption.AUTO_READ, false).register()
                        .sync().channel();
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
            stopGroupIfIdle();
            throw new IllegalStateException("cannot bind admin port " + address.getAddress().getHostAddress() + ":"
                    + address.getPort() + ": " + e.getMessage(), e);
        }
        return (InetSocketAddress) channel.localAddress();
    }

    /**
     * Serves the admin API on the Unix domain socket {@code path} with permissions {@code mode} (e.g. {@code 0600}).
     * Binds a temporary name beside it and renames it into place, so the path never dangles and a stale socket (a
     * crashed process, or the previous process during an upgrade) is replaced atomically. Epoll's domain socket
     * channel, or NIO's (JDK 16+) on the NIO transport.
     */
    public Path startUnix(Path path, String mode) {
        Path tmp = path.resolveSibling(path.getFileName() + "." + ProcessHandle.current().pid() + ".tmp");
        try {
            if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)
                    && !Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther()) {
                throw new IllegalStateException("cannot serve admin on unix socket " + path
                        + ": the path exists and is not a socket");
            }
            Files.deleteIfExists(tmp);
            Class<? extends ServerChannel> type;
            SocketAddress bindTo;
            if (Transport.get().isEpoll()) {
                type = EpollServerDomainSocketChannel.class;
                bindTo = new DomainSocketAddress(tmp.toString());
            } else {
                type = NioServerDomainSocketChannel.class;
                bindTo = UnixDomainSocketAddress.of(tmp);
            }
            Channel ch = bootstrap().channel(type).bind(bindTo).sync().channel();
            try {
                Files.setPosixFilePermissions(tmp, permissions(mode));
                Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                unixFileKey = Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
                        .fileKey();
            } catch (IOException | RuntimeException e) {
                ch.close().awaitUninterruptibly();
                throw e;
            }
            unixChannel = ch;
            unixPath = path;
            return path;
        } catch (IllegalStateException e) {
            stopGroupIfIdle();
            throw e;
        } catch (Exception e) {
            stopGroupIfIdle();
            throw new IllegalStateException("cannot serve admin on unix socket " + path + ": " + e, e);
        }
    }

    private static Set<PosixFilePermission> permissions(String mode) {
        int bits = Integer.parseInt(mode == null ? "600" : mode, 8);
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((bits & (1 << i)) != 0) {
                s.add(order[i]);
            }
        }
        return s;
    }

    /** The TCP address, or null when not bound. */
    public InetSocketAddress address() {
        return channel == null ? null : (InetSocketAddress) channel.localAddress();
    }

    /** The Unix socket served, or null. */
    public Path unixSocket() {
        return unixChannel == null ? null : unixPath;
    }

    public void stop() {
        if (channel != null) {
            channel.close().awaitUninterruptibly();
        }
        closeUnixSocket();
        if (group != null) {
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
        }
    }

    private synchronized void stopGroupIfIdle() {
        if (group != null && channel == null && unixChannel == null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            group = null;
        }
    }

    private void closeUnixSocket() {
        Channel ch = unixChannel;
        if (ch == null) {
            return;
        }
        ch.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        try {
            if (Files.exists(unixPath, LinkOption.NOFOLLOW_LINKS) && unixFileKey != null && unixFileKey.equals(
                    Files.readAttributes(unixPath, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey())) {
                Files.delete(unixPath);
            }
        } catch (IOException e) {
            log.debug("cannot remove admin socket {}: {}", unixPath, e.toString());
        }
    }

    /** Whether {@code header} (an Authorization value) carries the token; constant time in the token's length. */
    private boolean authorized(String header) {
        byte[] want = token;
        if (header == null || header.length() < 7 || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        return MessageDigest.isEqual(want, header.substring(7).strip().getBytes(StandardCharsets.UTF_8));
    }

    private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
            AdminResponse resp;
            if (!req.decoderResult().isSuccess()) {
                resp = AdminResponse.error(400, "bad request: " + req.decoderResult().cause());
            } else {
                resp = dispatch(ctx, req);
            }
            ByteBuf body = Unpooled.copiedBuffer(resp.body(), StandardCharsets.UTF_8);
            FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                    HttpResponseStatus.valueOf(resp.status()), body);
            resp.headers().forEach((k, v) -> r.headers().set(k, v));
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

        private AdminResponse dispatch(ChannelHandlerContext ctx, FullHttpRequest req) {
            QueryStringDecoder q = new QueryStringDecoder(req.uri());
            String method = req.method().name();
            boolean mutating = !method.equals("GET") && !method.equals("HEAD");
            if (token != null && (mutating || (tokenForReads && !PROBES.contains(q.path())))
                    && !authorized(req.headers().get(HttpHeaderNames.AUTHORIZATION))) {
                audit.warn("admin: refused {} {} from {}: missing or wrong bearer token", method, q.path(),
                        ctx.channel().remoteAddress());
                return AdminResponse.error(401, "unauthorized: " + method + " " + q.path()
                                + " needs the header Authorization: Bearer <admin.token>")
                        .withHeader("WWW-Authenticate", "Bearer realm=\"remora-admin\"");
            }
            Map<String, AdminHandler> byMethod = routes.get(q.path());
            if (byMethod == null) {
                return AdminResponse.error(404, "no admin endpoint " + q.path() + "; known: "
                        + new TreeMap<>(routes).keySet() + " (GET /help describes them)");
            }
            AdminHandler h = byMethod.get(method);
            if (h == null) {
                h = byMethod.get("*");
            }
            if (h == null && method.equals("HEAD")) {
                h = byMethod.get("GET");
            }
            if (h == null) {
                return methodNotAllowed(method, q.path(), byMethod.keySet());
            }
            Map<String, List<String>> params = q.parameters();
            String body = req.content().toString(StandardCharsets.UTF_8);
            AdminResponse resp;
            try {
                resp = h.handle(new AdminRequest(method, q.path(), params, body));
            } catch (AdminProblem e) {
                resp = AdminResponse.error(e.status(), e.getMessage());
            } catch (IllegalArgumentException e) {
                resp = AdminResponse.error(400, e.getMessage());
            } catch (Exception e) {
                log.error("admin endpoint {} failed", q.path(), e);
                resp = AdminResponse.error(500, "internal error in " + q.path() + ": " + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            }
            if (mutating) {
                audit.info("admin: {} {} from {} -> {}", method, req.uri(), ctx.channel().remoteAddress(),
                        resp.status());
            }
            return resp;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("admin connection error: {}", cause.toString());
            ctx.close();
        }
    }

    /** 405 with an {@code Allow} header; Envoy's wording when the path only takes POST. */
    static AdminResponse methodNotAllowed(String method, String path, Set<String> allowed) {
        Set<String> allow = new TreeSet<>(allowed);
        if (allow.contains("GET")) {
            allow.add("HEAD");
        }
        String message = allow.equals(Set.of("POST"))
                ? "Method " + method + " not allowed, POST required."
                : method + " not allowed on " + path + " (allowed: " + allow + ")";
        return AdminResponse.error(405, message).withHeader("Allow", String.join(", ", allow));
    }
}
