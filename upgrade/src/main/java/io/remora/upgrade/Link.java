package io.remora.upgrade;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One end of the upgrade socket, used from a single protocol thread in lock step: every wait is bounded, every
 * message but the last is answered. Incoming messages and file descriptors queue here (bounded) until taken.
 */
final class Link implements AutoCloseable {

    private static final Object CLOSED = new Object();

    private final Channel channel;
    private final BlockingQueue<Object> inbox;

    private Link(Channel channel, BlockingQueue<Object> inbox) {
        this.channel = channel;
        this.inbox = inbox;
    }

    /** Connects to {@code socket}; null if nobody listens there (stale file or no sidecar). */
    static Link connect(EventLoopGroup group, Path socket, long timeoutMillis) {
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>(4096);
        ChannelFuture f = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) timeoutMillis)
                .handler(initializer(inbox))
                .connect(new DomainSocketAddress(socket.toFile()));
        if (!f.awaitUninterruptibly(timeoutMillis, TimeUnit.MILLISECONDS) || !f.isSuccess()) {
            f.channel().close();
            return null;
        }
        return new Link(f.channel(), inbox);
    }

    /** Wraps an accepted channel whose pipeline was set up with {@link #initializer}. */
    static Link accepted(Channel ch, BlockingQueue<Object> inbox) {
        return new Link(ch, inbox);
    }

    static ChannelInitializer<Channel> initializer(BlockingQueue<Object> inbox) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                ch.pipeline().addLast(new LengthFieldBasedFrameDecoder(Msg.MAX_FRAME, 0, 4, 0, 4));
                ch.pipeline().addLast(new Inbox(inbox));
            }
        };
    }

    void send(Msg m, long timeoutMillis) throws IOException {
        ChannelFuture f = channel.writeAndFlush(m.encode(channel.alloc()));
        await(f, timeoutMillis, "send " + m.type());
    }

    /** Sends {@code fd} alone (the receiver announced READY); this process keeps its own copy open. */
    void sendFd(int fd, long timeoutMillis) throws IOException {
        await(channel.writeAndFlush(new FileDescriptor(fd)), timeoutMillis, "send fd " + fd);
    }

    /** The next message; IOException on timeout, close, or an unexpected type (an ERROR message carries its text). */
    Msg next(Msg.Type expected, long timeoutMillis) throws IOException {
        Object o = poll(timeoutMillis, expected.toString());
        if (!(o instanceof Msg m)) {
            closeQuietly(o);
            throw new IOException("expected " + expected + ", got a file descriptor");
        }
        if (m.type() == Msg.Type.ERROR) {
            throw new IOException("peer reported: " + m.text("message"));
        }
        if (expected != null && m.type() != expected) {
            throw new IOException("expected " + expected + ", got " + m.type());
        }
        return m;
    }

    /** The next message of any type. */
    Msg next(long timeoutMillis) throws IOException {
        Object o = poll(timeoutMillis, "a message");
        if (!(o instanceof Msg m)) {
            closeQuietly(o);
            throw new IOException("expected a message, got a file descriptor");
        }
        if (m.type() == Msg.Type.ERROR) {
            throw new IOException("peer reported: " + m.text("message"));
        }
        return m;
    }

    /** Switches to fd reading, announces READY, waits for the fd, switches back to bytes. */
    FileDescriptor receiveFd(long id, long timeoutMillis) throws IOException {
        EpollDomainSocketChannel ch = (EpollDomainSocketChannel) channel;
        ch.config().setReadMode(DomainSocketReadMode.FILE_DESCRIPTORS);
        try {
            var ready = Msg.of(Msg.Type.READY);
            ready.meta().put("id", id);
            send(ready, timeoutMillis);
            Object o = poll(timeoutMillis, "file descriptor " + id);
            if (!(o instanceof FileDescriptor fd)) {
                throw new IOException("expected file descriptor " + id + ", got " + o);
            }
            return fd;
        } finally {
            ch.config().setReadMode(DomainSocketReadMode.BYTES);
        }
    }

    private Object poll(long timeoutMillis, String what) throws IOException {
        Object o;
        try {
            o = inbox.poll(timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for " + what);
        }
        if (o == null) {
            throw new IOException("no " + what + " within " + timeoutMillis + " ms");
        }
        if (o == CLOSED) {
            inbox.offer(CLOSED); // later waits fail fast too
            throw new IOException("peer closed the upgrade socket (waiting for " + what + ")");
        }
        if (o instanceof IOException e) {
            throw new IOException(e.getMessage(), e);
        }
        return o;
    }

    private static void await(ChannelFuture f, long timeoutMillis, String what) throws IOException {
        if (!f.awaitUninterruptibly(timeoutMillis, TimeUnit.MILLISECONDS)) {
            throw new IOException(what + ": not written within " + timeoutMillis + " ms");
        }
        if (!f.isSuccess()) {
            throw new IOException(what + ": " + f.cause().getMessage(), f.cause());
        }
    }

    static void closeQuietly(Object fd) {
        if (fd instanceof FileDescriptor d) {
            try {
                d.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }

    boolean isOpen() {
        return channel.isActive();
    }

    @Override
    public void close() {
        channel.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
        Object o;
        while ((o = inbox.poll()) != null) {
            closeQuietly(o);
        }
    }

    /** Queues decoded messages and received fds for the protocol thread. */
    private static final class Inbox extends ChannelInboundHandlerAdapter {
        private final BlockingQueue<Object> inbox;

        Inbox(BlockingQueue<Object> inbox) {
            this.inbox = inbox;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            Object item;
            if (msg instanceof ByteBuf b) {
                try {
                    item = Msg.decode(b);
                } catch (IOException e) {
                    item = e;
                } finally {
                    b.release();
                }
            } else {
                item = msg; // a FileDescriptor
            }
            if (!inbox.offer(item)) {
                closeQuietly(item);
                ctx.close(); // the protocol is lock step: a full inbox means a misbehaving peer
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            inbox.offer(CLOSED);
            ctx.fireChannelInactive();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            inbox.offer(new IOException("upgrade socket failed: " + cause.getMessage()));
            ctx.close();
        }
    }
}
