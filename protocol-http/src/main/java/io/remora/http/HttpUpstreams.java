package io.remora.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.util.concurrent.FastThreadLocal;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.metrics.HostMetrics;
import io.remora.core.protocol.ProxyError;
import io.remora.core.transport.Transport;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The HTTP upstream connections of one event loop (like the RPC engine's per-loop pool): per host, idle HTTP/1.1
 * connections (at most {@link #MAX_IDLE_PER_HOST}, or as many as are busy, kept) and one multiplexed HTTP/2 connection. Only its loop touches
 * it. Exchanges in use per host are bounded by the cluster's {@code max_pending_requests}.
 */
final class HttpUpstreams {

    static final int MAX_IDLE_PER_HOST = 64;
    /**
     * HTTP/1.1 connections (connecting, busy or idle) per host and event loop; exchanges beyond it wait for one to
     * come free. Unbounded, an open-loop burst opened one connection per in-flight request: thousands of connects at
     * once overflowed the origin's accept backlog and timed out as 502s.
     */
    static final int MAX_CONNECTIONS_PER_HOST = 256;
    static final int MAX_RESPONSE_HEADER_BYTES = 64 * 1024;
    /**
     * h2c connections per host and event loop: another is opened only when every one is at the server's
     * SETTINGS_MAX_CONCURRENT_STREAMS; beyond this many, exchanges wait for a stream to close.
     */
    static final int MAX_H2_CONNECTIONS_PER_HOST = 16;

    private static final FastThreadLocal<HttpUpstreams> CURRENT = new FastThreadLocal<>() {
        @Override
        protected HttpUpstreams initialValue() {
            return new HttpUpstreams();
        }
    };

    private final Map<Host, PerHost> hosts = new HashMap<>();

    static HttpUpstreams current() {
        return CURRENT.get();
    }

    static final class PerHost {
        final ArrayDeque<H1Link> idle = new ArrayDeque<>();
        /** Exchanges waiting for a connection while {@link #MAX_CONNECTIONS_PER_HOST} are open. */
        final ArrayDeque<HttpExchange> waiting = new ArrayDeque<>();
        int busy;
        /** HTTP/1.1 connections connecting, busy or idle. */
        int conns;
        EventLoop loop;
        Cluster cluster;
        Host host;
        /** h2c connections taking new streams (connecting or ready); draining ones are dropped from the list. */
        final java.util.ArrayList<Http2Upstream> h2 = new java.util.ArrayList<>(2);
        /** Exchanges waiting for an h2 stream (every connection at its peer's concurrent-stream limit). */
        final ArrayDeque<HttpExchange> h2Waiting = new ArrayDeque<>();
        /** h2 streams in use on every connection (draining ones too). */
        int h2InUse;
        private boolean h2DispatchScheduled;

        HttpExchange nextH2Waiting() {
            HttpExchange ex;
            while ((ex = h2Waiting.poll()) != null && ex.done()) {
                // timed out or cancelled while waiting
            }
            return ex;
        }

        Http2Upstream h2WithCapacity() {
            for (int i = 0; i < h2.size(); i++) {
                Http2Upstream c = h2.get(i);
                if (c.hasCapacity()) {
                    return c;
                }
            }
            return null;
        }

        HttpExchange nextWaiting() {
            HttpExchange ex;
            while ((ex = waiting.poll()) != null && ex.done()) {
                // timed out or cancelled while waiting
            }
            return ex;
        }
    }

    /** {@code fresh}: do not take an idle connection (a retry after a stale one). */
    void acquire(HttpExchange ex, EventLoop loop, Cluster cluster, Host host, boolean h2, boolean fresh) {
        PerHost ph = hosts.get(host);
        if (ph == null) {
            hosts.put(host, ph = new PerHost());
        }
        if (h2) {
            acquireH2(ph, ex, loop, cluster, host);
            return;
        }
        if (ph.busy + ph.waiting.size() >= cluster.maxPendingRequests()) {
            ex.fail(ProxyError.OVERFLOW, "upstream overflow: " + (ph.busy + ph.waiting.size())
                    + " requests in flight or waiting to " + host.address() + " of cluster " + cluster.name()
                    + " on this event loop");
            return;
        }
        ph.loop = loop;
        ph.cluster = cluster;
        ph.host = host;
        H1Link l;
        while (!fresh && (l = ph.idle.pollLast()) != null) {
            if (l.channel.isActive()) {
                l.reused = true;
                l.markBusy();
                ph.busy++;
                ex.upstreamReady(l);
                return;
            }
        }
        if (ph.conns >= MAX_CONNECTIONS_PER_HOST) {
            ph.waiting.add(ex);
            return;
        }
        connectH1(ex, loop, cluster, host, ph);
    }

    private static void connectH1(HttpExchange ex, EventLoop loop, Cluster cluster, Host host, PerHost ph) {
        HostMetrics hm = cluster.metrics().host(host.address());
        H1Link link = new H1Link(host, hm, ph);
        Bootstrap b = Transport.get().upstreamBootstrap(loop, cluster.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        io.remora.core.tls.TransportSockets.install(ch, cluster, host);
                        ch.pipeline().addLast("http-codec", new Http1ClientCodec(new HttpDecoderConfig()
                                .setMaxHeaderSize(MAX_RESPONSE_HEADER_BYTES)
                                .setTrailersFactory(HttpHeadersUtil.SMALL_TRAILERS)
                                .setMaxChunkSize(HttpPipelines.MAX_CHUNK_BYTES)));
                        ch.pipeline().addLast("upstream", link);
                    }
                });
        ph.busy++;
        ph.conns++;
        ChannelFuture f = b.connect(host.socketAddress());
        f.addListener(done -> {
            if (f.isSuccess()) {
                host.markConnected();
                hm.opened();
                link.connected = true;
                ex.upstreamReady(link);
            } else {
                ph.busy--;
                ph.conns--;
                link.busy = false;
                host.markConnectFailure(System.nanoTime());
                hm.connectFailed();
                String reason = f.cause() == null ? "unknown" : f.cause().getMessage();
                HttpExchange.log.warn("cannot connect to upstream {}: {}", host, reason);
                String message = "cannot connect to upstream " + host.address() + " of cluster " + cluster.name()
                        + ": " + reason;
                ex.upstreamFailed(ProxyError.UPSTREAM_CONNECT_FAILURE, message);
                if (ph.conns == 0) { // nothing left that could serve the waiters
                    HttpExchange w;
                    while ((w = ph.nextWaiting()) != null) {
                        w.upstreamFailed(ProxyError.UPSTREAM_CONNECT_FAILURE, message);
                        w.flushDownstream();
                    }
                }
            }
            ex.flushDownstream();
        });
    }

    /** A connection slot came free: a waiting exchange gets a new connection. */
    private static void connectForWaiter(PerHost ph) {
        if (ph.conns < MAX_CONNECTIONS_PER_HOST && !ph.waiting.isEmpty()) {
            HttpExchange ex = ph.nextWaiting();
            if (ex != null) {
                connectH1(ex, ph.loop, ph.cluster, ph.host, ph);
            }
        }
    }

    private static void acquireH2(PerHost ph, HttpExchange ex, EventLoop loop, Cluster cluster, Host host) {
        if (ph.h2InUse + ph.h2Waiting.size() >= cluster.maxPendingRequests()) {
            ex.fail(ProxyError.OVERFLOW, "upstream overflow: " + (ph.h2InUse + ph.h2Waiting.size())
                    + " streams open or waiting to " + host.address() + " of cluster " + cluster.name()
                    + " on this event loop");
            return;
        }
        ph.loop = loop;
        ph.cluster = cluster;
        ph.host = host;
        Http2Upstream c = ph.h2Waiting.isEmpty() ? ph.h2WithCapacity() : null;
        if (c != null) {
            c.openStream(ex);
            return;
        }
        ph.h2Waiting.add(ex);
        connectH2IfNeeded(ph);
    }

    /** Waiters and no connection about to take them: open one more (bounded per host). */
    private static void connectH2IfNeeded(PerHost ph) {
        if (ph.h2Waiting.isEmpty() || ph.h2.size() >= MAX_H2_CONNECTIONS_PER_HOST) {
            return;
        }
        for (int i = 0; i < ph.h2.size(); i++) {
            if (ph.h2.get(i).connecting()) {
                return; // its SETTINGS will tell how many it takes
            }
        }
        Http2Upstream c = Http2Upstream.create(ph, ph.loop, ph.cluster, ph.host);
        ph.h2.add(c);
        c.connect();
    }

    /** A connection became ready or a stream closed: waiting exchanges get streams. */
    static void h2Dispatch(PerHost ph) {
        ph.h2DispatchScheduled = false;
        while (!ph.h2Waiting.isEmpty()) {
            Http2Upstream c = ph.h2WithCapacity();
            if (c == null) {
                break;
            }
            HttpExchange ex = ph.nextH2Waiting();
            if (ex == null) {
                break;
            }
            c.openStream(ex);
            ex.flushDownstream();
        }
        connectH2IfNeeded(ph);
    }

    /** A stream was released: dispatch waiters after the current codec callback (not from inside it). */
    static void h2StreamFreed(PerHost ph) {
        if (!ph.h2Waiting.isEmpty() && !ph.h2DispatchScheduled) {
            ph.h2DispatchScheduled = true;
            ph.loop.execute(() -> h2Dispatch(ph));
        }
    }

    /** A connection takes no more streams (GOAWAY, closed, ids exhausted). */
    static void h2Gone(PerHost ph, Http2Upstream c) {
        ph.h2.remove(c);
        if (!ph.h2Waiting.isEmpty()) {
            connectH2IfNeeded(ph);
        }
    }

    static void h2Requeue(PerHost ph, HttpExchange ex) {
        ph.h2Waiting.addFirst(ex);
        connectH2IfNeeded(ph);
    }

    static void h2ConnectFailed(PerHost ph, Http2Upstream c, String message) {
        ph.h2.remove(c);
        if (!ph.h2.isEmpty()) {
            h2Dispatch(ph); // others may still take them (or open a new one)
            return;
        }
        HttpExchange w;
        while ((w = ph.nextH2Waiting()) != null) {
            w.upstreamFailed(ProxyError.UPSTREAM_CONNECT_FAILURE, message);
            w.flushDownstream();
        }
    }

    /** An HTTP/1.1 connection: one exchange at a time, back to the idle list at a message boundary. */
    static final class H1Link extends UpstreamLink {
        private final PerHost ph;
        boolean connected;
        private boolean busy = true;

        H1Link(Host host, HostMetrics hm, PerHost ph) {
            super(host, hm);
            this.ph = ph;
        }

        @Override
        boolean http2() {
            return false;
        }

        @Override
        void finished(boolean reusable) {
            exchange = null;
            if (busy) {
                busy = false;
                ph.busy--;
            }
            if (reusable && channel.isActive()) {
                HttpExchange next = ph.nextWaiting();
                if (next != null) { // straight to the next waiting exchange, no trip through the idle list
                    channel.config().setAutoRead(true);
                    reused = false;
                    busy = true;
                    ph.busy++;
                    next.upstreamReady(this);
                    next.flushDownstream();
                    return;
                }
            }
            // keep at least as many idle as are busy: under more concurrency than the floor, closing the surplus
            // meant a new upstream connection per request (connect + codec setup + close on every exchange)
            if (reusable && channel.isActive() && ph.idle.size() < Math.max(MAX_IDLE_PER_HOST, ph.busy + 1)) {
                channel.config().setAutoRead(true);
                ph.idle.addLast(this);
            } else {
                channel.close();
            }
        }

        void markBusy() {
            busy = true;
        }

        @Override
        void closed() {
            ph.idle.remove(this);
            if (connected) {
                connected = false;
                ph.conns--;
                hostMetrics.closed(false);
                connectForWaiter(ph);
            }
        }
    }
}
