package io.remora.upgrade;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.remora.core.SidecarContext;
import io.remora.core.admin.AdminServer;
import io.remora.core.proxy.ConnectionHandoff;
import io.remora.core.proxy.ListenerSlot;
import java.io.IOException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The old process's side of one upgrade, on its own thread: offers every listening socket, waits for the new process
 * to confirm it serves (until then nothing changes here, so a failed new process costs nothing), then stops accepting,
 * moves each connection at a request boundary, hands over the counters and exits once nothing is left.
 */
final class OldSide {

    private final UpgradeExtension ext;
    private final SidecarContext ctx;
    private final Settings settings;
    private final Progress progress;
    private final Counters counters = new Counters();
    private long nextId = 1;

    OldSide(UpgradeExtension ext) {
        this.ext = ext;
        this.ctx = ext.context();
        this.settings = ext.settings();
        this.progress = ext.progress();
    }

    /** Outcome of getting one connection to a request boundary. */
    private record Prepared(Channel ch, String listener, Outcome outcome, byte[] unread) {
    }

    private enum Outcome { READY, DRAINED, GONE }

    void run(Link link) {
        long step = settings.stepTimeoutMillis();
        long peer;
        try {
            Msg hello = link.next(Msg.Type.HELLO, step);
            peer = hello.meta().path("pid").asLong();
            progress.begin("old", peer);
            progress.state("handing-over-listeners");
            progress.info("upgrade: new sidecar (pid {}) connected; closing the upgrade socket and handing over "
                    + "the listening sockets", peer);
            ext.closeServer(); // one upgrade at a time; the new process binds the socket path when it is done
            Msg ack = Msg.of(Msg.Type.HELLO_ACK);
            ack.meta().put("pid", ProcessHandle.current().pid());
            var names = ack.meta().putArray("listeners");
            ctx.listeners().slots().forEach(s -> names.add(s.name()));
            link.send(ack, step);
            for (ListenerSlot s : ctx.listeners().slots()) {
                if (s.serverChannel() instanceof EpollServerSocketChannel c && c.isOpen()) {
                    offer(link, "listener", s.name(), c.fd().intValue(), null, c.localAddress().toString());
                    progress.listeners.incrementAndGet();
                    progress.info("upgrade: listening socket of {} ({}) sent", s.name(), c.localAddress());
                }
            }
            offerServer(link, "admin", ctx.adminServer());
            offerServer(link, "metrics", ctx.metricsServer());
            link.send(Msg.of(Msg.Type.LISTENERS_DONE), step);
            link.next(Msg.Type.ACK, step);
            progress.state("waiting-takeover");
            progress.info("upgrade: all listening sockets received by pid {}; both serve until it confirms "
                    + "(waiting up to {} ms)", peer, settings.takeoverTimeoutMillis());
            Msg takeover = link.next(Msg.Type.TAKEOVER, settings.takeoverTimeoutMillis());
            progress.info("upgrade: pid {} serves {}; this process stops accepting", peer,
                    takeover.meta().path("adopted"));
        } catch (IOException | RuntimeException e) {
            progress.warn("upgrade aborted before the new process confirmed: {}; this process keeps serving as "
                    + "before", e.getMessage());
            progress.finish("aborted");
            link.close();
            ext.bindServer();
            return;
        }
        // Point of no return: the new process serves every listener.
        for (ListenerSlot s : ctx.listeners().slots()) {
            Channel c = s.serverChannel();
            if (c != null) {
                c.close().awaitUninterruptibly(step, TimeUnit.MILLISECONDS);
            }
        }
        handOff(ctx.adminServer());
        handOff(ctx.metricsServer());
        boolean linkOk = true;
        try {
            Msg ta = Msg.of(Msg.Type.TAKEOVER_ACK);
            ta.meta().set("counters", counters.delta(ctx.metrics()));
            link.send(ta, step);
            progress.info("upgrade: stopped accepting; counter snapshot sent ({} counters)",
                    ta.meta().path("counters").size());
        } catch (IOException e) {
            linkOk = false;
            progress.warn("upgrade: lost the new process after its takeover: {}; draining connections here",
                    e.getMessage());
        }
        progress.state("migrating-connections");
        linkOk = migrateAll(link, linkOk);
        if (linkOk) {
            try {
                Msg done = Msg.of(Msg.Type.DONE);
                done.meta().put("migrated", progress.migrated.get());
                done.meta().put("drained", progress.drained.get());
                waitForConnections(settings.drainTimeoutMillis()); // drained ones answer their last requests first
                done.meta().set("counters", counters.delta(ctx.metrics()));
                link.send(done, step);
                link.next(Msg.Type.ACK, step);
            } catch (IOException e) {
                progress.warn("upgrade: final counters not delivered: {}", e.getMessage());
            }
        }
        link.close();
        waitForConnections(settings.exitTimeoutMillis());
        progress.finish("done");
        progress.info("upgrade: handed over to pid {} in {} ms: {} listening socket(s), {} connection(s) migrated, "
                + "{} drained, {} failed; exiting", peer, progress.elapsedMillis(), progress.listeners.get(),
                progress.migrated.get(), progress.drained.get(), progress.failed.get());
        ext.exitAfterHandoff();
    }

    private void offerServer(Link link, String kind, AdminServer server) throws IOException {
        if (server != null && server.channel() instanceof EpollServerSocketChannel c && c.isOpen()) {
            offer(link, kind, kind, c.fd().intValue(), null, c.localAddress().toString());
            progress.info("upgrade: {} listening socket ({}) sent", kind, c.localAddress());
        }
    }

    private static void handOff(AdminServer server) {
        if (server != null && server.channel() != null) {
            server.handOff();
        }
    }

    /** OFFER, wait READY, the fd alone, wait ACK: true if the new process adopted it. */
    private boolean offer(Link link, String kind, String name, int fd, byte[] unread, String address)
            throws IOException {
        long step = settings.stepTimeoutMillis();
        long id = nextId++;
        Msg o = Msg.of(Msg.Type.OFFER, Msg.of(Msg.Type.OFFER).meta(), unread);
        o.meta().put("id", id).put("kind", kind).put("name", name).put("address", address);
        link.send(o, step);
        Msg ready = link.next(Msg.Type.READY, step);
        if (ready.id() != id) {
            throw new IOException("READY for " + ready.id() + ", offered " + id);
        }
        link.sendFd(fd, step);
        Msg ack = link.next(Msg.Type.ACK, step);
        if (ack.id() != id) {
            throw new IOException("ACK for " + ack.id() + ", offered " + id);
        }
        if (!ack.meta().path("ok").asBoolean()) {
            progress.warn("upgrade: new process refused {} {}: {}", kind, name, ack.text("error"));
            return false;
        }
        return true;
    }

    /** Moves every connection (also ones accepted just before the listeners closed); false once the link broke. */
    private boolean migrateAll(Link link, boolean linkOk) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(settings.drainTimeoutMillis());
        Set<Channel> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        BlockingQueue<Prepared> prepared = new LinkedBlockingQueue<>();
        for (int round = 0; round < 5; round++) {
            int pending = 0;
            for (ListenerSlot s : ctx.listeners().slots()) {
                for (Channel ch : s.connections()) {
                    if (seen.add(ch)) {
                        ch.eventLoop().execute(() -> {
                            ch.config().setAutoRead(false); // stop taking requests; in-flight ones finish here
                            check(ch, s.name(), deadline, prepared);
                        });
                        pending++;
                    }
                }
            }
            if (pending == 0) {
                break;
            }
            progress.info("upgrade: moving {} connection(s) at their next request boundary (deadline {} ms)",
                    pending, settings.drainTimeoutMillis());
            for (; pending > 0; pending--) {
                Prepared p;
                try {
                    long wait = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())
                            + settings.stepTimeoutMillis();
                    p = prepared.poll(Math.max(wait, 1), TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                if (p == null) {
                    progress.warn("upgrade: {} connection(s) never reached a boundary; closing them at exit", pending);
                    break;
                }
                linkOk = move(link, linkOk, p);
            }
        }
        return linkOk;
    }

    private boolean move(Link link, boolean linkOk, Prepared p) {
        switch (p.outcome()) {
            case GONE -> {
                return linkOk;
            }
            case DRAINED -> {
                progress.drained.incrementAndGet();
                progress.info("upgrade: connection {} on {} closes gracefully (TLS, HTTP/2 GOAWAY, or busy past the "
                        + "deadline)", p.ch().remoteAddress(), p.listener());
                return linkOk;
            }
            default -> {
            }
        }
        Channel ch = p.ch();
        boolean ok = false;
        if (linkOk) {
            try {
                ok = offer(link, "connection", p.listener(), ((EpollSocketChannel) ch).fd().intValue(), p.unread(),
                        String.valueOf(ch.remoteAddress()));
            } catch (IOException e) {
                linkOk = false;
                progress.warn("upgrade: lost the new process while moving connections: {}; the rest drain here",
                        e.getMessage());
            }
        }
        if (ok) {
            progress.migrated.incrementAndGet();
            progress.info("upgrade: connection {} on {} migrated ({} unread bytes)", ch.remoteAddress(),
                    p.listener(), p.unread().length);
            ch.eventLoop().execute(() -> {
                ByteBuf b = unread(ch);
                b.skipBytes(b.readableBytes()); // they travelled with the socket
                ch.close(); // this process's copy only: the socket lives on in the new process
            });
        } else {
            progress.failed.incrementAndGet();
            ch.eventLoop().execute(() -> {
                ch.config().setAutoRead(true);
                closeGracefully(ch);
            });
        }
        return linkOk;
    }

    /** On the channel's loop: ready when nothing is in flight or half-written; drained past the deadline or TLS. */
    private void check(Channel ch, String listener, long deadline, BlockingQueue<Prepared> out) {
        if (!ch.isOpen()) {
            out.add(new Prepared(ch, listener, Outcome.GONE, null));
            return;
        }
        ConnectionHandoff h = handoff(ch);
        if (!(ch instanceof EpollSocketChannel) || ch.pipeline().get(SslHandler.class) != null
                || (h != null && !h.migratable())) {
            closeGracefully(ch); // TLS state cannot travel with the fd; HTTP/2 gets GOAWAY
            out.add(new Prepared(ch, listener, Outcome.DRAINED, null));
            return;
        }
        ChannelOutboundBuffer ob = ch.unsafe().outboundBuffer();
        if ((h == null || h.quiescent()) && (ob == null || ob.totalPendingWriteBytes() == 0)) {
            out.add(new Prepared(ch, listener, Outcome.READY, ByteBufUtil.getBytes(unread(ch))));
        } else if (System.nanoTime() - deadline > 0) {
            closeGracefully(ch);
            out.add(new Prepared(ch, listener, Outcome.DRAINED, null));
        } else {
            ch.eventLoop().schedule(() -> check(ch, listener, deadline, out), 2, TimeUnit.MILLISECONDS);
        }
    }

    private static final java.lang.invoke.MethodHandle INTERNAL_BUFFER;

    static {
        try {
            var m = ByteToMessageDecoder.class.getDeclaredMethod("internalBuffer");
            m.setAccessible(true); // protected in Netty; the bytes a decoder holds must travel with the socket
            INTERNAL_BUFFER = java.lang.invoke.MethodHandles.lookup().unreflect(m);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The decoder's cumulation: bytes read from the socket and not decoded yet (never null). */
    static ByteBuf cumulation(ByteToMessageDecoder d) {
        try {
            return (ByteBuf) INTERNAL_BUFFER.invoke(d);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the decoder's buffer", t);
        }
    }

    private static void closeGracefully(Channel ch) {
        ConnectionHandoff h = handoff(ch);
        if (h != null) {
            h.closeGracefully();
        } else {
            ch.close();
        }
    }

    private static ConnectionHandoff handoff(Channel ch) {
        return ConnectionHandoff.find(ch.pipeline());
    }

    /** Bytes read but not consumed (a view): the handoff handler's (HTTP), else the decoder's or detector's. */
    private static ByteBuf unread(Channel ch) {
        ConnectionHandoff h = handoff(ch);
        ByteBuf b = h == null ? null : h.unread();
        if (b != null) {
            return b;
        }
        ByteToMessageDecoder d = decoder(ch);
        return d == null ? io.netty.buffer.Unpooled.EMPTY_BUFFER : cumulation(d);
    }

    /** The handler holding bytes read but not decoded: the codec's decoder, or the detector before detection. */
    private static ByteToMessageDecoder decoder(Channel ch) {
        for (String name : List.of("decoder", "detect")) {
            if (ch.pipeline().get(name) instanceof ByteToMessageDecoder d) {
                return d;
            }
        }
        return null;
    }

    private void waitForConnections(long timeoutMillis) {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() - end < 0) {
            int open = 0;
            for (ListenerSlot s : ctx.listeners().slots()) {
                open += s.connections().size();
            }
            if (open == 0) {
                return;
            }
            try {
                Thread.sleep(20); // connections close on their own loops; nothing to await across all of them
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        progress.warn("upgrade: connections still open after {} ms; they close at exit", timeoutMillis);
    }
}
