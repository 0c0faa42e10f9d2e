package io.remora.core.http;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
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

    private static final class PerHost {
        final ArrayDeque<H1Link> idle = new ArrayDeque<>();
        /** Exchanges waiting for a connection while {@link #MAX_CONNECTIONS_PER_HOST} are open. */
        final ArrayDeque<HttpExchange> waiting = new ArrayDeque<>();
        int busy;
        /** HTTP/1.1 connections connecting, busy or idle. */
        int conns;
        EventLoop loop;
        Cluster cluster;
        Host host;
        Http2Upstream h2;

        HttpExchange nextWaiting() {
            HttpExchange ex;
            while ((ex = waiting.poll()) != null && ex.isDone()) {
                // timed out or cancelled while waiting
            }
            return ex;
        }
    }

    /** {@code fresh}: do not take an idle connection (a retry after a stale one). */
    void acquire(HttpExchange ex, EventLoop loop, Cluster cluster, Host host, boolean h2, boolean fresh) {
        PerHost ph = hosts.computeIfAbsent(host, h -> new PerHost());
        if (h2) {
            Http2Upstream c = ph.h2;
            if (c == null || !c.usable()) {
                c = ph.h2 = new Http2Upstream(this, loop, cluster, host);
                c.connect();
            }
            c.open(ex);
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
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(Transport.get().socketChannelClass())
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.SO_KEEPALIVE, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) cluster.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("http-codec", new HttpClientCodec(new HttpDecoderConfig()
                                .setMaxHeaderSize(MAX_RESPONSE_HEADER_BYTES)
                                .setMaxChunkSize(HttpPipelines.MAX_CHUNK_BYTES), false, false));
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

    void removeH2(Host host, Http2Upstream c) {
        PerHost ph = hosts.get(host);
        if (ph != null && ph.h2 == c) {
            ph.h2 = null;
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
