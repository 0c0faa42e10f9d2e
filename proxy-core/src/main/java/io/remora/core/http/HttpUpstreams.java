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
        int busy;
        Http2Upstream h2;
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
        if (ph.busy >= cluster.maxPendingRequests()) {
            ex.fail(ProxyError.OVERFLOW, "upstream overflow: " + ph.busy + " requests in flight to "
                    + host.address() + " of cluster " + cluster.name() + " on this event loop");
            return;
        }
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
        connectH1(ex, loop, cluster, host, ph);
    }

    private void connectH1(HttpExchange ex, EventLoop loop, Cluster cluster, Host host, PerHost ph) {
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
        ChannelFuture f = b.connect(host.socketAddress());
        f.addListener(done -> {
            if (f.isSuccess()) {
                host.markConnected();
                hm.opened();
                link.connected = true;
                ex.upstreamReady(link);
            } else {
                ph.busy--;
                link.busy = false;
                host.markConnectFailure(System.nanoTime());
                hm.connectFailed();
                String reason = f.cause() == null ? "unknown" : f.cause().getMessage();
                HttpExchange.log.warn("cannot connect to upstream {}: {}", host, reason);
                ex.upstreamFailed(ProxyError.UPSTREAM_CONNECT_FAILURE, "cannot connect to upstream "
                        + host.address() + " of cluster " + cluster.name() + ": " + reason);
            }
            ex.flushDownstream();
        });
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
                hostMetrics.closed(false);
            }
        }
    }
}
