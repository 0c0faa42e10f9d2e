package io.remora.core.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigManager;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.ListenerSpec;
import io.remora.core.config.SidecarConfig;
import io.remora.core.digest.DigestLog;
import io.remora.core.metrics.ProxyMetrics;
import io.remora.core.protocol.DownstreamInstaller;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.transport.Transport;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens, updates and closes listeners as config snapshots arrive, diffing by listener name: an unchanged address
 * keeps its socket and its connections (they pick up the new spec on their next request); a new or moved listener is
 * bound before the snapshot is published, so a bind failure refuses the whole config.
 */
public final class ListenerManager implements ConfigManager.Applier {

    private static final Logger log = LoggerFactory.getLogger(ListenerManager.class);
    private static final Logger startup = LoggerFactory.getLogger("io.remora.startup");

    private final EventLoopGroup workers;
    /** Netty's default, shared: it is only configuration (each connection gets its own handle), not one per socket. */
    private static final io.netty.channel.AdaptiveRecvByteBufAllocator RECV_ALLOCATOR =
            new io.netty.channel.AdaptiveRecvByteBufAllocator();
    /** Marks a connection handed over by the previous process (not a new accept). */
    public static final io.netty.util.AttributeKey<Boolean> ADOPTED = io.netty.util.AttributeKey.valueOf("remora.adopted");

    /** Listening sockets handed over on upgrade, by listener name, taken by the next apply instead of binding. */
    private final Map<String, Integer> inherited = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, ListenerSlot> slots = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile boolean serving;
    private final ProxyMetrics metrics;
    private final DigestLog digest;

    private final io.remora.core.limits.ConnectionLimits limits;
    private volatile io.remora.core.limits.OverloadManager overload;
    /** The overload manager paused accepting: listeners bound meanwhile start paused too. */
    private volatile boolean acceptPaused;

    public ListenerManager(EventLoopGroup workers, ProxyMetrics metrics, DigestLog digest) {
        this(workers, metrics, digest, new io.remora.core.limits.ConnectionLimits(io.remora.core.limits.Limits.DEFAULTS,
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry(),
                LoggerFactory.getLogger("io.remora.limits")));
    }

    public ListenerManager(EventLoopGroup workers, ProxyMetrics metrics, DigestLog digest,
                           io.remora.core.limits.ConnectionLimits limits) {
        this.workers = workers;
        this.metrics = metrics;
        this.digest = digest;
        this.limits = limits;
        limits.openConnections(this::openConnections);
    }

    /** The overload manager whose state the listeners' requests check (set once at start). */
    public void overload(io.remora.core.limits.OverloadManager m) {
        this.overload = m;
    }

    io.remora.core.limits.OverloadManager overloadManager() {
        return overload;
    }

    public io.remora.core.limits.ConnectionLimits connectionLimits() {
        return limits;
    }

    /**
     * Stops ({@code true}) or resumes accepting on every listener without closing the sockets: new connections wait
     * in the kernel's accept queue (the overload manager's way to shed load before memory runs out).
     */
    public void pauseAccepting(boolean paused) {
        acceptPaused = paused;
        for (ListenerSlot s : slots()) {
            Channel ch = s.serverChannel();
            if (ch != null && ch.isOpen()) {
                ch.config().setAutoRead(!paused);
            }
        }
    }

    /** True once the first config's listeners are all bound. */
    public boolean serving() {
        return serving;
    }

    public Collection<ListenerSlot> slots() {
        synchronized (slots) {
            return List.copyOf(slots.values());
        }
    }

    public ListenerSlot slot(String name) {
        return slots.get(name);
    }

    /** The address a listener actually bound (useful with port 0), or null. */
    public InetSocketAddress boundAddress(String name) {
        ListenerSlot s = slots.get(name);
        Channel ch = s == null ? null : s.serverChannel();
        return ch == null ? null : (InetSocketAddress) ch.localAddress();
    }

    @Override
    public synchronized void apply(ConfigSnapshot previous, ConfigSnapshot next) throws ConfigException {
        String localApp = next.source().node() == null ? null : next.source().node().app();
        List<ListenerSlot> fresh = new ArrayList<>();
        Map<ListenerSlot, ListenerSpec> rebinds = new LinkedHashMap<>();
        Map<ListenerSlot, Channel> newChannels = new LinkedHashMap<>();
        try {
            for (ListenerSpec spec : next.listeners().values()) {
                ListenerSlot slot = slots.get(spec.name());
                if (slot == null) {
                    ListenerSlot s = new ListenerSlot(spec, localApp, metrics.listener(spec.name(), spec.protocol()),
                            digest, this, metrics);
                    if (spec.bindToPort()) {
                        newChannels.put(s, bind(s, spec, next));
                    }
                    fresh.add(s);
                } else if (!slot.spec().address().equals(spec.address())
                        || slot.spec().transparent() != spec.transparent()
                        || slot.spec().bindToPort() != spec.bindToPort()) {
                    if (spec.bindToPort()) {
                        newChannels.put(slot, bind(slot, spec, next));
                    }
                    rebinds.put(slot, spec);
                }
            }
        } catch (ConfigException e) {
            newChannels.values().forEach(Channel::close);
            throw e;
        }
        // Commit: nothing below can fail.
        for (ListenerSlot s : fresh) {
            s.serverChannel(newChannels.get(s));
            slots.put(s.name(), s);
            startup.info("listener {} ({}, {}{}) {}", s.name(), s.spec().protocol(),
                    s.spec().direction().name().toLowerCase(), s.spec().transparent() ? ", transparent" : "",
                    s.serverChannel() != null ? "serving on " + s.serverChannel().localAddress()
                            : "not bound: serves " + s.spec().address() + " handed over by use_original_dst listeners");
        }
        for (Map.Entry<ListenerSlot, ListenerSpec> e : rebinds.entrySet()) {
            ListenerSlot slot = e.getKey();
            Channel old = slot.serverChannel();
            slot.serverChannel(newChannels.get(slot));
            if (old != null) {
                old.close();
            }
            startup.info("listener {} moved to {}", slot.name(), slot.serverChannel() != null
                    ? slot.serverChannel().localAddress() : e.getValue().address() + " (not bound)");
        }
        for (ListenerSpec spec : next.listeners().values()) {
            slots.get(spec.name()).update(spec, localApp);
        }
        synchronized (slots) {
            slots.values().removeIf(slot -> {
                if (!next.listeners().containsKey(slot.name())) {
                    Channel ch = slot.serverChannel();
                    if (ch != null) {
                        ch.close();
                    }
                    startup.info("listener {} removed; its {} open connection(s) finish on their last config",
                            slot.name(), slot.connections().size());
                    return true;
                }
                return false;
            });
            Map<InetSocketAddress, ListenerSlot> byAddress = new java.util.HashMap<>();
            for (ListenerSlot slot : slots.values()) {
                if (slot.spec().address().getPort() != 0) {
                    byAddress.putIfAbsent(slot.spec().address(), slot);
                }
            }
            handoff = Map.copyOf(byAddress);
        }
        serving = true;
    }

    /** Every listener by its configured address: where a use_original_dst listener hands its connections. */
    private volatile Map<InetSocketAddress, ListenerSlot> handoff = Map.of();

    /**
     * The listener serving original destination {@code destination} for a connection accepted on {@code accepting}:
     * the one on exactly that address, else the one on the wildcard address with that port (Envoy's lookup); null
     * when there is none (the accepting listener's own chains serve it).
     */
    ListenerSlot handoffTarget(InetSocketAddress destination, ListenerSlot accepting) {
        if (destination == null || destination.getAddress() == null) {
            return null;
        }
        Map<InetSocketAddress, ListenerSlot> m = handoff;
        ListenerSlot s = m.get(destination);
        if (s == null) {
            java.net.InetAddress any = destination.getAddress() instanceof java.net.Inet6Address
                    ? ANY_V6 : ANY_V4;
            s = m.get(new InetSocketAddress(any, destination.getPort()));
        }
        return s == accepting ? null : s;
    }

    private static final java.net.InetAddress ANY_V4 = anyAddress("0.0.0.0");
    private static final java.net.InetAddress ANY_V6 = anyAddress("::");

    private static java.net.InetAddress anyAddress(String a) {
        try {
            return java.net.InetAddress.getByName(a);
        } catch (java.net.UnknownHostException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * Upgrade hook: the next apply that opens listener {@code name} adopts the listening socket {@code fd} (handed over
     * by the previous process) instead of binding: no EADDRINUSE, and its accept queue is kept. Epoll only.
     */
    public void inheritListener(String name, int fd) {
        inherited.put(name, fd);
    }

    /** Removes and returns the inherited listening sockets no listener took (name to fd); the caller closes them. */
    public Map<String, Integer> takeUnclaimedInherited() {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (String name : List.copyOf(inherited.keySet())) {
            Integer fd = inherited.remove(name);
            if (fd != null) {
                m.put(name, fd);
            }
        }
        return m;
    }

    /**
     * Upgrade hook: continues a live connection handed over by the previous process. Registers {@code ch} on a worker
     * loop with listener {@code name}'s pipeline and feeds {@code unread} (bytes the old process had read but not
     * decoded; ownership taken) before anything read from the socket. Throws if there is no such listener.
     */
    public ChannelFuture adopt(String name, Channel ch, io.netty.buffer.ByteBuf unread) {
        ListenerSlot slot = slots.get(name);
        if (slot == null) {
            unread.release();
            throw new IllegalArgumentException("no listener " + name);
        }
        ch.attr(ADOPTED).set(Boolean.TRUE);
        ch.pipeline().addLast("replay", new ReplayUnread(unread));
        ch.pipeline().addLast(initializer(slot));
        return workers.register(ch);
    }

    /** Feeds the handed-over bytes once the adopted channel is active, then leaves the pipeline. */
    private static final class ReplayUnread extends io.netty.channel.ChannelInboundHandlerAdapter {
        private io.netty.buffer.ByteBuf unread;

        ReplayUnread(io.netty.buffer.ByteBuf unread) {
            this.unread = unread;
        }

        @Override
        public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
            ctx.fireChannelActive();
            io.netty.buffer.ByteBuf b = unread;
            unread = null;
            if (b.isReadable()) {
                ctx.fireChannelRead(b);
                ctx.fireChannelReadComplete();
            } else {
                b.release();
            }
            ctx.pipeline().remove(this);
        }

        @Override
        public void handlerRemoved(io.netty.channel.ChannelHandlerContext ctx) {
            if (unread != null) {
                unread.release();
                unread = null;
            }
        }
    }

    /**
     * Pauses ({@code false}: closes the listening socket, connections stay) or resumes ({@code true}: binds the same
     * address again) accepting on listener {@code name}. For the app heartbeat. False if no such listener or bind fails.
     */
    public synchronized boolean setAccepting(String name, boolean accepting) {
        ListenerSlot slot = slots.get(name);
        if (slot == null) {
            return false;
        }
        Channel ch = slot.serverChannel();
        if (!accepting) {
            if (ch != null && ch.isOpen()) {
                ch.close().awaitUninterruptibly();
            }
            return true;
        }
        if (ch != null && ch.isOpen()) {
            return true;
        }
        if (!slot.spec().bindToPort()) {
            return true; // no socket of its own to reopen
        }
        InetSocketAddress address = ch != null ? (InetSocketAddress) ch.localAddress() : slot.spec().address();
        ChannelFuture f = new ServerBootstrap().group(workers).channel(Transport.get().serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true).option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true).childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECV_ALLOCATOR)
                .childHandler(initializer(slot)).bind(address).awaitUninterruptibly();
        if (!f.isSuccess()) {
            log.error("cannot reopen listener {} on {}: {}", name, address, f.cause().toString());
            return false;
        }
        slot.serverChannel(f.channel());
        return true;
    }

    private Channel bind(ListenerSlot slot, ListenerSpec spec, ConfigSnapshot next) throws ConfigException {
        Integer fd = inherited.remove(spec.name());
        if (fd != null) {
            Channel adopted = adoptListening(slot, spec, fd);
            if (adopted != null) {
                return adopted;
            }
        }
        ServerBootstrap b = bootstrap(slot).channel(Transport.get().serverChannelClass());
        if (spec.transparent()) {
            // TPROXY hands this socket connections for addresses that are not ours; accepted sockets inherit it
            b.option(io.netty.channel.epoll.EpollChannelOption.IP_TRANSPARENT, true);
        }
        ChannelFuture f = b.bind(spec.address()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new ConfigException(listenerPath(next, spec.name()) + ".address", "cannot bind "
                    + spec.address().getAddress().getHostAddress() + ":" + spec.address().getPort() + ": "
                    + f.cause().getMessage());
        }
        if (spec.transparent() && !Boolean.TRUE.equals(
                f.channel().config().getOption(io.netty.channel.epoll.EpollChannelOption.IP_TRANSPARENT))) {
            f.channel().close();
            throw new ConfigException(listenerPath(next, spec.name()) + ".transparent", "cannot set IP_TRANSPARENT on "
                    + spec.address() + " (needs CAP_NET_ADMIN, e.g. run as root or grant the capability)");
        }
        if (acceptPaused) {
            f.channel().config().setAutoRead(false); // bound while overloaded: accepts once it recovers
        }
        return f.channel();
    }

    /** Registers (never binds) the inherited listening socket; null (fd closed) if it is not on the listener's address. */
    private Channel adoptListening(ListenerSlot slot, ListenerSpec spec, int fd) {
        Channel ch;
        try {
            ch = Transport.get().adoptServerChannel(fd);
        } catch (RuntimeException e) {
            log.warn("listener {}: cannot adopt inherited socket fd {}: {}; binding instead", spec.name(), fd,
                    e.getMessage());
            return null;
        }
        InetSocketAddress local = (InetSocketAddress) ch.localAddress();
        InetSocketAddress want = spec.address();
        if (local == null || (want.getPort() != 0 && (local.getPort() != want.getPort()
                || !local.getAddress().equals(want.getAddress())))) {
            log.warn("listener {}: inherited socket is on {}, config says {}; binding instead", spec.name(), local,
                    want);
            ch.unsafe().closeForcibly();
            return null;
        }
        ChannelFuture f = bootstrap(slot).channelFactory(() -> (io.netty.channel.ServerChannel) ch).register()
                .awaitUninterruptibly();
        if (!f.isSuccess()) {
            log.warn("listener {}: cannot register inherited socket: {}; binding instead", spec.name(),
                    f.cause().toString());
            ch.unsafe().closeForcibly();
            return null;
        }
        startup.info("listener {} adopted the listening socket {} from the previous process (no rebind)",
                spec.name(), local);
        return ch;
    }

    private ServerBootstrap bootstrap(ListenerSlot slot) {
        return new ServerBootstrap()
                .group(workers)
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECV_ALLOCATOR)
                .childHandler(initializer(slot));
    }

    private static String listenerPath(ConfigSnapshot next, String name) {
        List<SidecarConfig.Listener> ls = next.source().listeners();
        for (int i = 0; ls != null && i < ls.size(); i++) {
            if (name.equals(ls.get(i).name())) {
                return "listeners[" + i + "]";
            }
        }
        return "listeners." + name;
    }

    /** The per-connection pipeline of {@code slot}. Also used to adopt a connection handed over on upgrade. */
    public ChannelInitializer<Channel> initializer(ListenerSlot slot) {
        return new ChannelInitializer<>() {
            @Override
            protected void initChannel(Channel ch) {
                if (limits.admit(slot.name(), slot.connections().size(), ch, ch.hasAttr(ADOPTED))) {
                    initPipeline(ch.pipeline(), slot);
                }
            }
        };
    }

    void initPipeline(ChannelPipeline p, ListenerSlot slot) {
        ListenerSpec spec = slot.spec();
        if (spec.useOriginalDst() || spec.chains() != null) {
            p.addLast(ChainSelector.NAME, new ChainSelector(slot, this)); // once the connection is up
            return;
        }
        installServing(p, slot, spec);
    }

    /**
     * The handlers serving a connection on {@code slot} (a single-chain listener, or the chosen filter chain's slot):
     * idle close, TLS termination, then the protocol. Added at the end of the pipeline.
     */
    void installServing(ChannelPipeline p, ListenerSlot slot, ListenerSpec spec) {
        if (spec.idleTimeoutMillis() > 0) {
            p.addLast("idle", new io.remora.core.transport.IdleHandler(spec.idleTimeoutMillis()));
        }
        if (spec.tls() != null && !io.remora.core.tls.TransportSockets.installServer(p.channel(), spec.tls())) {
            return; // closed: its certificate has not been delivered (SDS)
        }
        if (spec.autoDetect()) {
            p.addLast("detect", new ProtocolDetector(slot, this));
        } else {
            RpcCodec codec = spec.codecs().get(0);
            DownstreamInstaller own = codec.protocol().downstreamInstaller();
            if (own != null) {
                own.install(p, slot, codec);
                return;
            }
            p.addLast("decoder", codec.newDecoder());
            p.addLast("proxy", new DownstreamConnection(slot, codec));
        }
    }

    void installProtocol(ChannelPipeline p, ListenerSlot slot, RpcCodec codec, String detectorName) {
        DownstreamInstaller own = codec.protocol().downstreamInstaller();
        if (own != null) {
            own.install(p, slot, codec); // adds after the detector, which is last
            p.remove(detectorName);
            return;
        }
        p.addAfter(detectorName, "proxy", new DownstreamConnection(slot, codec));
        p.addAfter(detectorName, "decoder", codec.newDecoder());
        p.remove(detectorName);
    }

    /** Closes every listening socket (connections stay until drained or closed by the caller). */
    public void closeListeners() {
        for (ListenerSlot s : slots()) {
            Channel ch = s.serverChannel();
            if (ch != null) {
                ch.close().awaitUninterruptibly();
            }
        }
    }

    /** Closes every downstream connection. */
    public void closeConnections() {
        for (ListenerSlot s : slots()) {
            s.connections().close().awaitUninterruptibly();
        }
    }

    /**
     * Closes every event loop's upstream connections, answering their pending calls with an upstream-reset error
     * (and so releasing every request still held). Waits for each loop at most a second.
     */
    public void closeUpstreamConnections() {
        for (io.netty.util.concurrent.EventExecutor loop : workers) {
            if (loop.isShuttingDown()) {
                continue;
            }
            loop.submit(() -> {
                for (UpstreamConnection c : LoopContext.current().pool.all()) {
                    c.close();
                }
            }).awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
    }

    /**
     * Asks every connection to close after its last in-flight response (graceful drain) through its
     * {@link ConnectionHandoff} (RPC, HTTP/1.1: {@code Connection: close}, HTTP/2: GOAWAY); a connection without one
     * (still detecting its protocol) is closed at once.
     */
    public void closeConnectionsWhenIdle() {
        for (ListenerSlot s : slots()) {
            for (Channel ch : s.connections()) {
                ch.eventLoop().execute(() -> {
                    ConnectionHandoff h = ConnectionHandoff.find(ch.pipeline());
                    if (h != null) {
                        h.closeGracefully();
                    } else {
                        ch.close();
                    }
                });
            }
        }
    }

    /** Open downstream connections across all listeners (no copy of the slot list: called on every accept). */
    public int openConnections() {
        int n = 0;
        synchronized (slots) {
            for (ListenerSlot s : slots.values()) {
                n += s.connections().size();
            }
        }
        return n;
    }
}
