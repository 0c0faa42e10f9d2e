package io.remora.core.proxy;

import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import io.remora.core.chain.FilterChains;
import io.remora.core.config.ListenerSpec;
import io.remora.core.digest.DigestLog;
import io.remora.core.metrics.ListenerMetrics;

/**
 * A named listener that outlives config snapshots: its server socket, its live connections, and the latest compiled
 * spec (swapped atomically; each request reads it once). The upgrade module enumerates slots by name.
 */
public final class ListenerSlot {

    private final String name;
    private final ChannelGroup connections;
    private volatile ListenerSpec spec;
    private volatile Channel serverChannel;
    private volatile String localApp;
    private final ListenerMetrics metrics;
    private final DigestLog digest;
    /** The listener a filter chain's slot belongs to; null for a listener's own slot. */
    private final ListenerSlot parent;
    /** A chained listener's per-chain slots, by chain name (they share its connections, meters and socket). */
    private final Map<String, ListenerSlot> chainSlots = new ConcurrentHashMap<>();
    private final ListenerManager manager;
    private final io.remora.core.metrics.IstioMetrics.Listener istio;

    /** Istio's standard meters of this listener, or null when they are switched off. */
    public io.remora.core.metrics.IstioMetrics.Listener istio() {
        return istio;
    }

    ListenerSlot(ListenerSpec spec, String localApp, ListenerMetrics metrics, DigestLog digest,
                 ListenerManager manager, io.remora.core.metrics.ProxyMetrics root) {
        this.metrics = metrics;
        this.digest = digest;
        this.manager = manager;
        this.istio = root.istio(spec.name(), metrics, spec.direction() == io.remora.core.filter.Direction.INBOUND);
        this.name = spec.name();
        this.spec = spec;
        this.localApp = localApp;
        this.connections = new DefaultChannelGroup(name, GlobalEventExecutor.INSTANCE);
        this.parent = null;
    }

    private ListenerSlot(ListenerSlot parent, ListenerSpec chainSpec) {
        this.parent = parent;
        this.metrics = parent.metrics;
        this.digest = parent.digest;
        this.manager = parent.manager;
        this.istio = parent.istio; // a chain's requests count under its listener
        this.name = parent.name;
        this.spec = chainSpec;
        this.localApp = parent.localApp;
        this.connections = parent.connections; // drain, upgrade and the gauges see every chain's connections
    }

    /**
     * The slot of filter chain {@code chain} of this listener: what the protocol handlers of a connection on that
     * chain see as their listener. It follows the chain (by name) across config snapshots.
     */
    public ListenerSlot chain(FilterChains.Chain chain) {
        ListenerSlot s = chainSlots.get(chain.name());
        if (s == null) {
            s = chainSlots.computeIfAbsent(chain.name(), k -> new ListenerSlot(this, chain.spec()));
        }
        return s;
    }

    /** The filter chain this slot serves, or null for a listener's own slot. */
    public String chainName() {
        return spec.chainName();
    }

    public String name() {
        return name;
    }

    public ListenerSpec spec() {
        return spec;
    }

    void update(ListenerSpec spec, String localApp) {
        this.spec = spec;
        this.localApp = localApp;
        FilterChains chains = spec.chains();
        if (chains != null) {
            // a chain that is gone keeps its last spec: its connections finish on their last config
            for (FilterChains.Chain c : chains.chains()) {
                ListenerSlot s = chainSlots.get(c.name());
                if (s != null) {
                    s.update(c.spec(), localApp);
                }
            }
            if (chains.fallback() != null && chainSlots.get(chains.fallback().name()) != null) {
                chainSlots.get(chains.fallback().name()).update(chains.fallback().spec(), localApp);
            }
        }
    }

    public String localApp() {
        return localApp;
    }

    public ListenerMetrics metrics() {
        return metrics;
    }

    /** The process's overload manager, or null (tests that build a listener manager alone). */
    public io.remora.core.limits.OverloadManager overload() {
        return manager.overloadManager();
    }

    /** The process's connection and request limits. */
    public io.remora.core.limits.Limits limits() {
        return manager.connectionLimits().limits();
    }

    /** The rate-limited log of refusals ({@code limits.log}). */
    public io.remora.core.limits.LimitLog limitLog() {
        return manager.connectionLimits().log();
    }

    /** The digest log, or null when digests are off for this process. */
    public DigestLog digest() {
        return digest;
    }

    /** The listening socket's channel, or null before bind / after close. */
    public Channel serverChannel() {
        return parent != null ? parent.serverChannel() : serverChannel;
    }

    void serverChannel(Channel ch) {
        this.serverChannel = ch;
    }

    /** Live downstream connections (closed ones leave the group by themselves). */
    public ChannelGroup connections() {
        return connections;
    }
}
