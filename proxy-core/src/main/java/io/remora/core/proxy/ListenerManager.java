package io.remora.core.proxy;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.timeout.IdleStateHandler;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigManager;
import io.remora.core.config.ConfigSnapshot;
import io.remora.core.config.ListenerSpec;
import io.remora.core.config.SidecarConfig;
import io.remora.core.digest.DigestLog;
import io.remora.core.metrics.ProxyMetrics;
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
    private final Map<String, ListenerSlot> slots = Collections.synchronizedMap(new LinkedHashMap<>());
    private volatile boolean serving;
    private final ProxyMetrics metrics;
    private final DigestLog digest;

    public ListenerManager(EventLoopGroup workers, ProxyMetrics metrics, DigestLog digest) {
        this.workers = workers;
        this.metrics = metrics;
        this.digest = digest;
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
                            digest);
                    newChannels.put(s, bind(s, spec, next));
                    fresh.add(s);
                } else if (!slot.spec().address().equals(spec.address())) {
                    newChannels.put(slot, bind(slot, spec, next));
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
            startup.info("listener {} ({}, {}) serving on {}", s.name(), s.spec().protocol(),
                    s.spec().direction().name().toLowerCase(), s.serverChannel().localAddress());
        }
        for (Map.Entry<ListenerSlot, ListenerSpec> e : rebinds.entrySet()) {
            ListenerSlot slot = e.getKey();
            Channel old = slot.serverChannel();
            slot.serverChannel(newChannels.get(slot));
            old.close();
            startup.info("listener {} moved to {}", slot.name(), slot.serverChannel().localAddress());
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
        }
        serving = true;
    }

    private Channel bind(ListenerSlot slot, ListenerSpec spec, ConfigSnapshot next) throws ConfigException {
        ServerBootstrap b = new ServerBootstrap()
                .group(workers)
                .channel(Transport.get().serverChannelClass())
                .option(ChannelOption.SO_REUSEADDR, true)
                .option(ChannelOption.SO_BACKLOG, 1024)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childHandler(initializer(slot));
        ChannelFuture f = b.bind(spec.address()).awaitUninterruptibly();
        if (!f.isSuccess()) {
            throw new ConfigException(listenerPath(next, spec.name()) + ".address", "cannot bind "
                    + spec.address().getAddress().getHostAddress() + ":" + spec.address().getPort() + ": "
                    + f.cause().getMessage());
        }
        return f.channel();
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
                initPipeline(ch.pipeline(), slot);
            }
        };
    }

    void initPipeline(ChannelPipeline p, ListenerSlot slot) {
        ListenerSpec spec = slot.spec();
        if (spec.idleTimeoutMillis() > 0) {
            p.addLast("idle", new IdleStateHandler(0, 0, spec.idleTimeoutMillis(), TimeUnit.MILLISECONDS));
        }
        if (spec.autoDetect()) {
            p.addLast("detect", new ProtocolDetector(slot, this));
        } else {
            RpcCodec codec = spec.codecs().get(0);
            p.addLast("decoder", codec.newDecoder());
            p.addLast("proxy", new DownstreamConnection(slot, codec));
        }
    }

    void installProtocol(ChannelPipeline p, ListenerSlot slot, RpcCodec codec, String detectorName) {
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

    /** Asks every connection to close after its last in-flight response (graceful drain). */
    public void closeConnectionsWhenIdle() {
        for (ListenerSlot s : slots()) {
            for (Channel ch : s.connections()) {
                DownstreamConnection dc = ch.pipeline().get(DownstreamConnection.class);
                if (dc != null) {
                    dc.closeWhenIdle();
                } else {
                    ch.close();
                }
            }
        }
    }

    /** Open downstream connections across all listeners. */
    public int openConnections() {
        int n = 0;
        for (ListenerSlot s : slots()) {
            n += s.connections().size();
        }
        return n;
    }
}
