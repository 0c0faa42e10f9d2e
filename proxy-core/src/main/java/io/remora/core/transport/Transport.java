package io.remora.core.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The socket transport: Netty's native epoll on Linux (needed for socket handoff on upgrade), NIO elsewhere or when
 * {@code -Dremora.transport=nio} is set.
 */
public final class Transport {

    private final String name;
    private final IoHandlerFactory ioHandlerFactory;
    private final Class<? extends ServerChannel> serverChannelClass;
    private final Class<? extends SocketChannel> socketChannelClass;
    private final Throwable epollUnavailableCause;

    private Transport(String name, IoHandlerFactory f, Class<? extends ServerChannel> server,
                      Class<? extends SocketChannel> socket, Throwable cause) {
        this.name = name;
        this.ioHandlerFactory = f;
        this.serverChannelClass = server;
        this.socketChannelClass = socket;
        this.epollUnavailableCause = cause;
    }

    private static final Transport INSTANCE = choose();

    /** The transport chosen once for this process. */
    public static Transport get() {
        return INSTANCE;
    }

    private static Transport choose() {
        boolean forceNio = "nio".equalsIgnoreCase(System.getProperty("remora.transport"));
        if (!forceNio && Epoll.isAvailable()) {
            return new Transport("epoll", EpollIoHandler.newFactory(), EpollServerSocketChannel.class,
                    EpollSocketChannel.class, null);
        }
        Throwable cause = forceNio ? null : Epoll.unavailabilityCause();
        return new Transport("nio", NioIoHandler.newFactory(), NioServerSocketChannel.class, NioSocketChannel.class,
                cause);
    }

    public String name() {
        return name;
    }

    public boolean isEpoll() {
        return "epoll".equals(name);
    }

    /** Why epoll was not used (for the start-up log), or null. */
    public Throwable epollUnavailableCause() {
        return epollUnavailableCause;
    }

    public EventLoopGroup newGroup(int threads, String threadPrefix) {
        return new MultiThreadIoEventLoopGroup(threads, new DefaultThreadFactory(threadPrefix, true), ioHandlerFactory);
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return serverChannelClass;
    }

    /** A channel over an already listening socket (handed over on upgrade). Epoll only. */
    public ServerChannel adoptServerChannel(int fd) {
        if (!isEpoll()) {
            throw new UnsupportedOperationException("adopting a socket needs the epoll transport (running " + name + ")");
        }
        return new EpollServerSocketChannel(fd);
    }

    /** A channel over an already connected socket (handed over on upgrade). Epoll only. */
    public SocketChannel adoptSocketChannel(int fd) {
        if (!isEpoll()) {
            throw new UnsupportedOperationException("adopting a socket needs the epoll transport (running " + name + ")");
        }
        return new EpollSocketChannel(fd);
    }

    public Class<? extends SocketChannel> socketChannelClass() {
        return socketChannelClass;
    }

    /**
     * A client bootstrap for a connection to an upstream host on {@code loop} (the caller's own loop: a request never
     * hops threads): the transport's socket class, no Nagle, TCP keepalive, the cluster's connect timeout.
     */
    public Bootstrap upstreamBootstrap(EventLoop loop, long connectTimeoutMillis) {
        return new Bootstrap()
                .group(loop)
                .channel(socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS,
                        (int) Math.min(Integer.MAX_VALUE, connectTimeoutMillis));
    }
}
