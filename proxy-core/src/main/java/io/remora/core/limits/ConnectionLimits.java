package io.remora.core.limits;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;

/**
 * The sidecar's admission of downstream connections: a global cap, a per-listener cap and a per-listener accept
 * rate (while overloaded, the {@link OverloadManager} answers each request with the overload error, and with
 * {@code overload.stop_accepting} also stops accepting altogether). A refused connection is reset
 * at once (no pipeline, no buffers), counted in {@code remora_downstream_connections_rejected_total{listener,reason}}
 * and logged to {@code limits.log} once per reason and interval. Called on the new connection's event loop; lock-free.
 */
public final class ConnectionLimits {

    private final Limits limits;
    /** Open downstream connections across listeners (the listeners' connection groups). */
    private volatile java.util.function.IntSupplier openConnections = () -> 0;
    private final ConcurrentHashMap<String, PerListener> listeners = new ConcurrentHashMap<>();
    private final LimitLog limitLog;
    private final MeterRegistry registry;
    private final LongSupplier clock;

    /** @param log where refusals are logged (the sidecar's {@code limits.log}) */
    public ConnectionLimits(Limits limits, MeterRegistry registry, Logger log) {
        this(limits, registry, System::nanoTime, new LimitLog(log));
    }

    ConnectionLimits(Limits limits, MeterRegistry registry, LongSupplier clock, LimitLog limitLog) {
        this.limits = limits;
        this.registry = registry;
        this.clock = clock;
        this.limitLog = limitLog;
    }

    public Limits limits() {
        return limits;
    }

    /** The rate-limited log of refusals ({@code limits.log}), for the protocols' own limits too. */
    public LimitLog log() {
        return limitLog;
    }

    /** Downstream connections open now, across listeners. */
    public int open() {
        return openConnections.getAsInt();
    }

    /** Where the open connections are counted (the listener manager's connection groups; set once at start). */
    public void openConnections(java.util.function.IntSupplier s) {
        this.openConnections = s;
    }

    private final class PerListener {
        final String name;
        final AcceptRate rate;
        final Counter maxConnections;
        final Counter maxPerListener;
        final Counter acceptRate;

        PerListener(String name) {
            this.name = name;
            this.rate = limits.acceptPerSecond() > 0 ? new AcceptRate(limits.acceptPerSecond(), clock) : null;
            this.maxConnections = counter(name, "max_connections");
            this.maxPerListener = counter(name, "max_connections_per_listener");
            this.acceptRate = counter(name, "accept_rate");
        }
    }

    private Counter counter(String listener, String reason) {
        return Counter.builder("remora.downstream.connections.rejected")
                .description("downstream connections the sidecar reset at accept, by limit")
                .tags("listener", listener, "reason", reason).register(registry);
    }

    /**
     * Admits a newly accepted connection on {@code listener}, which has {@code listenerOpen} open connections, or
     * resets it and returns false. Open connections are counted by their listeners' connection groups (an admitted
     * connection joins its group as its pipeline is set up), so an idle connection carries nothing for this.
     * {@code adopted}: handed over by the previous process on upgrade (always admitted: it was admitted there).
     */
    public boolean admit(String listener, int listenerOpen, Channel ch, boolean adopted) {
        PerListener l = listeners.computeIfAbsent(listener, PerListener::new);
        if (!adopted) {
            String refused = null;
            Counter c = null;
            if (openConnections.getAsInt() >= limits.maxConnections()) {
                refused = "limits.max_connections " + limits.maxConnections() + " reached";
                c = l.maxConnections;
            } else if (listenerOpen >= limits.maxConnectionsPerListener()) {
                refused = "limits.max_connections_per_listener " + limits.maxConnectionsPerListener() + " reached";
                c = l.maxPerListener;
            } else if (l.rate != null && !l.rate.tryAcquire()) {
                refused = "limits.accept_per_second " + limits.acceptPerSecond() + " exceeded";
                c = l.acceptRate;
            }
            if (refused != null) {
                c.increment();
                limitLog.warn(listener + ":" + c.getId().getTag("reason"),
                        "listener {}: connection from {} reset: {}", listener, ch.remoteAddress(), refused);
                reset(ch);
                return false;
            }
        }
        return true;
    }

    /** Closes with RST (SO_LINGER 0): no FIN handshake, no TIME_WAIT kept by the sidecar for a refused peer. */
    private static void reset(Channel ch) {
        try {
            ch.config().setOption(ChannelOption.SO_LINGER, 0);
        } catch (RuntimeException ignored) {
            // not a TCP socket (e.g. an embedded test channel): a plain close does
        }
        ch.close();
    }
}
