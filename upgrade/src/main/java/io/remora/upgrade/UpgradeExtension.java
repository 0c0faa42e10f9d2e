package io.remora.upgrade;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.remora.core.SidecarContext;
import io.remora.core.SidecarExtension;
import io.remora.core.admin.AdminResponse;
import io.remora.core.transport.Transport;
import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Smooth upgrade: serves a Unix socket ({@code extensions.upgrade.dir}/remora-upgrade.sock) through which a new
 * sidecar takes over this one's listening sockets, admin port, live connections and counters; or, when a sidecar
 * already answers there (or {@code --upgrade}), takes over from it. Epoll only. See upgrade/README.md.
 */
public final class UpgradeExtension implements SidecarExtension {

    private static final Logger startup = LoggerFactory.getLogger("io.remora.startup");

    private SidecarContext ctx;
    private Settings settings;
    private Progress progress;
    private EventLoopGroup group;
    private NewSide newSide;
    private Channel server;
    private final AtomicBoolean busy = new AtomicBoolean();
    private volatile boolean stopped;

    @Override
    public String name() {
        return "upgrade";
    }

    SidecarContext context() {
        return ctx;
    }

    Settings settings() {
        return settings;
    }

    Progress progress() {
        return progress;
    }

    @Override
    public void start(SidecarContext context) throws Exception {
        this.ctx = context;
        this.progress = new Progress(context.logs().fileLogger("upgrade.log", "INFO"));
        context.admin().register("GET", "/api/v1/upgrade", r -> AdminResponse.json(progress.json()));
        context.addReadinessCheck("upgrade", () -> newSide == null || newSide.serving());
        boolean asked = Boolean.getBoolean("remora.upgrade");
        settings = Settings.from(context.initialConfig());
        if (settings == null) {
            startup.info("upgrade: off (ephemeral admin port and no extensions.upgrade.dir)");
            if (asked) {
                throw new IllegalStateException("--upgrade: set extensions.upgrade.dir (or a fixed admin port) so "
                        + "the running sidecar can be found");
            }
            return;
        }
        progress.socket(settings.socket().toString());
        if (!Transport.get().isEpoll()) {
            String msg = "upgrade: refused: the transport is " + Transport.get().name() + ", socket handoff needs "
                    + "epoll (Linux, no -Dremora.transport=nio)";
            progress.warn(msg);
            startup.warn(msg);
            if (asked || Files.exists(settings.socket())) {
                startup.error("upgrade: cannot take over from the sidecar behind {}; this process's listeners "
                        + "will fail to bind while it holds the ports", settings.socket());
            }
            settings = null;
            return;
        }
        group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("remora-upgrade", true),
                EpollIoHandler.newFactory());
        Files.createDirectories(settings.dir());
        if (Files.exists(settings.socket()) && (asked || settings.auto())) {
            Link link = Link.connect(group, settings.socket(), settings.stepTimeoutMillis());
            if (link != null) {
                startup.info("upgrade: found a running sidecar behind {}; taking over its listeners",
                        settings.socket());
                newSide = new NewSide(this, link);
                newSide.receiveListeners();
                return;
            }
            progress.info("upgrade: nobody answers on {} (stale socket from a dead process)", settings.socket());
        }
        if (asked) {
            startup.warn("upgrade: --upgrade but no running sidecar answers on {}; starting normally",
                    settings.socket());
            progress.warn("upgrade: --upgrade but no running sidecar answers on {}; starting normally",
                    settings.socket());
        }
    }

    @Override
    public void started() {
        if (settings == null) {
            return;
        }
        if (newSide != null) {
            newSide.confirm(); // binds the upgrade socket when the old process is done
        } else {
            bindServer();
        }
    }

    /** Serves the upgrade socket (for the next upgrade). Never takes the path from a live sidecar. */
    synchronized void bindServer() {
        if (stopped || server != null) {
            return;
        }
        try {
            if (Files.exists(settings.socket())) {
                Link probe = Link.connect(group, settings.socket(), settings.stepTimeoutMillis());
                if (probe != null) {
                    probe.close();
                    progress.warn("upgrade: another sidecar serves {}; this one cannot be upgraded", settings.socket());
                    return;
                }
                Files.deleteIfExists(settings.socket());
            }
            server = new ServerBootstrap().group(group).channel(EpollServerDomainSocketChannel.class)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accept(ch);
                        }
                    })
                    .bind(new DomainSocketAddress(settings.socket().toFile())).sync().channel();
            startup.info("upgrade: a new sidecar can take over through {}", settings.socket());
            progress.info("upgrade: serving {} (pid {})", settings.socket(), ProcessHandle.current().pid());
        } catch (IOException | RuntimeException | InterruptedException e) {
            progress.warn("upgrade: cannot serve {}: {}; this sidecar cannot be upgraded in place", settings.socket(),
                    e.toString());
        }
    }

    /** Stops serving the upgrade socket (the close removes the file). */
    synchronized void closeServer() {
        if (server != null) {
            server.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            server = null;
        }
    }

    private void accept(Channel ch) {
        if (!busy.compareAndSet(false, true)) {
            ch.close(); // one upgrade at a time
            return;
        }
        BlockingQueue<Object> inbox = new LinkedBlockingQueue<>(4096);
        ch.pipeline().addLast(Link.initializer(inbox));
        Thread t = new Thread(() -> {
            try {
                new OldSide(this).run(Link.accepted(ch, inbox));
            } finally {
                busy.set(false);
            }
        }, "remora-upgrade-old");
        t.setDaemon(true);
        t.start();
    }

    /**
     * The old process is done: stop the way SIGTERM does (the command line's drain-and-close path, exit 0), unless
     * -Dremora.upgrade.exit=false (in-process tests).
     */
    void exitAfterHandoff() {
        if ("false".equals(System.getProperty("remora.upgrade.exit"))) {
            return;
        }
        try {
            sun.misc.Signal.raise(new sun.misc.Signal("TERM"));
        } catch (IllegalArgumentException e) {
            new Thread(() -> System.exit(0), "remora-upgrade-exit").start();
        }
    }

    @Override
    public void stop() {
        stopped = true;
        closeServer();
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
        }
    }
}
