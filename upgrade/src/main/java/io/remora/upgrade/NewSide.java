package io.remora.upgrade;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.unix.FileDescriptor;
import io.remora.core.SidecarContext;
import io.remora.core.admin.AdminServer;
import io.remora.core.transport.Transport;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The new process's side: receives the listening sockets before its listeners open (they adopt them instead of
 * binding), confirms once it serves, then adopts each migrated connection with its unread bytes and the counters.
 */
final class NewSide {

    private final UpgradeExtension ext;
    private final SidecarContext ctx;
    private final Settings settings;
    private final Progress progress;
    private final Link link;
    private final Map<String, FileDescriptor> listenerFds = new LinkedHashMap<>();
    private FileDescriptor adminFd;
    private FileDescriptor metricsFd;
    private long peer;
    private volatile boolean serving;

    NewSide(UpgradeExtension ext, Link link) {
        this.ext = ext;
        this.ctx = ext.context();
        this.settings = ext.settings();
        this.progress = ext.progress();
        this.link = link;
    }

    /** True once the old process confirmed it stopped accepting (readiness). */
    boolean serving() {
        return serving;
    }

    /** In {@code start()}: takes the listening sockets; throws (the old one keeps serving) if anything fails. */
    void receiveListeners() {
        long step = settings.stepTimeoutMillis();
        try {
            Msg hello = Msg.of(Msg.Type.HELLO);
            hello.meta().put("pid", ProcessHandle.current().pid()).put("version", Msg.VERSION);
            link.send(hello, step);
            Msg ack = link.next(Msg.Type.HELLO_ACK, step);
            peer = ack.meta().path("pid").asLong();
            progress.begin("new", peer);
            progress.state("receiving-listeners");
            progress.info("upgrade: taking over from pid {} (listeners {})", peer, ack.meta().path("listeners"));
            while (true) {
                Msg m = link.next(step);
                if (m.type() == Msg.Type.LISTENERS_DONE) {
                    break;
                }
                if (m.type() != Msg.Type.OFFER) {
                    throw new IOException("expected OFFER or LISTENERS_DONE, got " + m.type());
                }
                FileDescriptor fd = link.receiveFd(m.id(), step);
                String kind = m.text("kind");
                switch (kind) {
                    case "listener" -> listenerFds.put(m.text("name"), fd);
                    case "admin" -> adminFd = fd;
                    case "metrics" -> metricsFd = fd;
                    default -> {
                        Link.closeQuietly(fd);
                        throw new IOException("unexpected " + kind + " before LISTENERS_DONE");
                    }
                }
                progress.info("upgrade: received the {} socket {} ({})", kind, m.text("name"), m.text("address"));
                ack(m.id(), true, null);
            }
            if (Boolean.getBoolean("remora.upgrade.test.exitAfterListeners")) {
                progress.warn("upgrade: test hook remora.upgrade.test.exitAfterListeners: exiting now");
                Runtime.getRuntime().halt(3);
            }
            link.send(okMsg(), step);
        } catch (IOException | RuntimeException e) {
            abort(true);
            throw new IllegalStateException("upgrade: taking over from pid " + peer + " failed: " + e.getMessage()
                    + "; the old sidecar keeps serving", e);
        }
        listenerFds.forEach((name, fd) -> ctx.listeners().inheritListener(name, fd.intValue()));
        if (adminFd != null) {
            ctx.adminServer().inherit(adminFd.intValue());
        }
        if (metricsFd != null && ctx.metricsServer() != null) {
            ctx.metricsServer().inherit(metricsFd.intValue());
        }
        progress.state("adopting-listeners");
        progress.info("upgrade: {} listening socket(s) received; listeners adopt them instead of binding",
                listenerFds.size() + (adminFd == null ? 0 : 1) + (metricsFd == null ? 0 : 1));
    }

    private static Msg okMsg() {
        Msg m = Msg.of(Msg.Type.ACK);
        m.meta().put("ok", true);
        return m;
    }

    /** In {@code started()}: the listeners serve; ask the old one to stop accepting, then take its connections. */
    void confirm() {
        long step = settings.stepTimeoutMillis();
        List<String> adopted = new ArrayList<>(listenerFds.keySet());
        ctx.listeners().takeUnclaimedInherited().forEach((name, fd) -> {
            adopted.remove(name);
            Link.closeQuietly(new FileDescriptor(fd));
            progress.warn("upgrade: the old listener {} is not in this config; its socket is closed", name);
        });
        if (metricsFd != null && (ctx.metricsServer() == null || ctx.metricsServer().channel() == null)) {
            Link.closeQuietly(metricsFd); // no metrics port in this config
        }
        try {
            Msg t = Msg.of(Msg.Type.TAKEOVER);
            var names = t.meta().putArray("adopted");
            adopted.forEach(names::add);
            link.send(t, step);
            Msg ack = link.next(Msg.Type.TAKEOVER_ACK, step);
            int n = Counters.apply(ctx.metrics(), ack.meta().get("counters"), progress);
            progress.counters.addAndGet(n);
            resume(ctx.adminServer());
            resume(ctx.metricsServer());
            serving = true;
            progress.state("receiving-connections");
            progress.info("upgrade: pid {} stopped accepting; this process serves every listener and the admin port "
                    + "({} counters carried over) after {} ms", peer, n, progress.elapsedMillis());
        } catch (IOException e) {
            abort(false); // the fds belong to the adopted channels now; the failed start closes them
            throw new IllegalStateException("upgrade: pid " + peer + " did not confirm the takeover: " + e.getMessage(),
                    e);
        }
        Thread t = new Thread(this::receiveConnections, "remora-upgrade-new");
        t.setDaemon(true);
        t.start();
    }

    private static void resume(AdminServer s) {
        if (s != null) {
            s.resumeAccepting();
        }
    }

    private void receiveConnections() {
        long step = settings.stepTimeoutMillis();
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(2 * settings.drainTimeoutMillis()
                + settings.exitTimeoutMillis() + step);
        try {
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0) {
                    throw new IOException("the old process did not finish in time");
                }
                Msg m = link.next(left);
                if (m.type() == Msg.Type.DONE) {
                    int n = Counters.apply(ctx.metrics(), m.meta().get("counters"), progress);
                    progress.counters.addAndGet(n);
                    link.send(okMsg(), step);
                    progress.finish("done");
                    progress.info("upgrade: done in {} ms: {} connection(s) migrated, {} drained by pid {}; {} "
                            + "late counter increment(s) applied", progress.elapsedMillis(), progress.migrated.get(),
                            m.meta().path("drained").asInt(), peer, n);
                    break;
                }
                if (m.type() != Msg.Type.OFFER || !"connection".equals(m.text("kind"))) {
                    throw new IOException("expected a connection OFFER or DONE, got " + m);
                }
                adoptConnection(m, link.receiveFd(m.id(), step), step);
            }
        } catch (IOException e) {
            progress.warn("upgrade: {} (after {} migrated connection(s)); this process serves on", e.getMessage(),
                    progress.migrated.get());
            progress.finish("done-partial");
        } finally {
            link.close();
            ext.bindServer();
        }
    }

    private void adoptConnection(Msg m, FileDescriptor fd, long step) throws IOException {
        String listener = m.text("name");
        Channel ch = null;
        String error = null;
        try {
            ch = Transport.get().adoptSocketChannel(fd.intValue());
            ChannelFuture f = ctx.listeners().adopt(listener, ch, Unpooled.wrappedBuffer(m.blob()));
            if (!f.awaitUninterruptibly(step, TimeUnit.MILLISECONDS) || !f.isSuccess()) {
                error = "not registered: " + f.cause();
            } else if (!ch.isActive()) {
                error = "connection already closed";
            }
        } catch (RuntimeException e) {
            error = e.toString();
        }
        if (error != null) {
            if (ch != null) {
                ch.close();
            } else {
                Link.closeQuietly(fd);
            }
            progress.failed.incrementAndGet();
            progress.warn("upgrade: connection {} on {} not adopted: {}", m.text("address"), listener, error);
        } else {
            progress.migrated.incrementAndGet();
            progress.info("upgrade: connection {} on {} continues here ({} unread bytes)", ch.remoteAddress(),
                    listener, m.blob().length);
        }
        ack(m.id(), error == null, error);
    }

    private void ack(long id, boolean ok, String error) throws IOException {
        Msg a = Msg.of(Msg.Type.ACK);
        a.meta().put("id", id).put("ok", ok);
        if (error != null) {
            a.meta().put("error", error);
        }
        link.send(a, settings.stepTimeoutMillis());
    }

    private void abort(boolean closeFds) {
        progress.finish("failed");
        link.close();
        if (closeFds) {
            listenerFds.values().forEach(Link::closeQuietly);
            Link.closeQuietly(adminFd);
            Link.closeQuietly(metricsFd);
        }
    }
}
