package io.remora.core.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.collection.LongObjectHashMap;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.metrics.HostMetrics;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import io.remora.core.transport.Transport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One multiplexed connection to an upstream host, owned by one event loop. Requests from many downstream
 * connections share it: each gets a fresh request id from this connection's counter (ids from different clients
 * collide; these never do), and the response is matched back by that id. Pending calls are bounded; when the
 * connection dies every pending call is answered with the protocol's native error.
 */
final class UpstreamConnection extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(UpstreamConnection.class);
    private static final int MAX_MISSED_HEARTBEATS = 3;

    private enum State { CONNECTING, ACTIVE, DRAINING, CLOSED }

    private final UpstreamPool pool;
    private final EventLoop loop;
    private final Cluster cluster;
    private final Host host;
    private final RpcCodec codec;
    private final long maxId;
    private final LongObjectHashMap<RpcStream> pending = new LongObjectHashMap<>();
    private final ArrayDeque<RpcStream> waiting = new ArrayDeque<>();
    private Channel channel;
    private State state = State.CONNECTING;
    private long nextId = 1;
    private long heartbeatId = -1;
    private int missedHeartbeats;
    private boolean everConnected;
    private final HostMetrics hostMetrics;

    UpstreamConnection(UpstreamPool pool, EventLoop loop, Cluster cluster, Host host, RpcCodec codec) {
        this.pool = pool;
        this.loop = loop;
        this.cluster = cluster;
        this.host = host;
        this.codec = codec;
        this.maxId = codec.maxRequestId();
        this.hostMetrics = cluster.metrics().host(host.address());
    }

    RpcCodec codec() {
        return codec;
    }

    Host host() {
        return host;
    }

    boolean usable() {
        return state == State.CONNECTING || state == State.ACTIVE;
    }

    int pendingCount() {
        return pending.size() + waiting.size();
    }

    void connect() {
        long heartbeatMillis = cluster.heartbeatIntervalMillis();
        Bootstrap b = Transport.get().upstreamBootstrap(loop, cluster.connectTimeoutMillis())
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        io.remora.core.tls.TransportSockets.install(ch, cluster, host);
                        if (heartbeatMillis > 0) {
                            ch.pipeline().addLast(new io.remora.core.transport.IdleHandler(heartbeatMillis));
                        }
                        ch.pipeline().addLast("decoder", codec.newDecoder());
                        ch.pipeline().addLast("upstream", UpstreamConnection.this);
                    }
                });
        ChannelFuture f = b.connect(host.socketAddress());
        channel = f.channel();
        f.addListener(done -> onConnected(f));
    }

    private void onConnected(ChannelFuture f) {
        if (f.isSuccess()) {
            if (state != State.CONNECTING) {
                return;
            }
            state = State.ACTIVE;
            everConnected = true;
            host.markConnected();
            hostMetrics.opened();
            log.debug("connected to upstream {} ({})", host, codec.protocol().name());
            RpcStream s;
            while ((s = waiting.poll()) != null) {
                dispatch(s);
            }
        } else {
            host.markConnectFailure(System.nanoTime());
            hostMetrics.connectFailed();
            String reason = f.cause() == null ? "unknown" : f.cause().getMessage();
            log.warn("cannot connect to upstream {}: {}", host, reason);
            state = State.CLOSED;
            pool.remove(this);
            failAll(ProxyError.UPSTREAM_CONNECT_FAILURE, "cannot connect to upstream " + host.address()
                    + " of cluster " + cluster.name() + ": " + reason);
        }
        LoopContext.current().flush();
    }

    /** Sends {@code s} now, or after the connection is up. Called on {@link #loop}. */
    void send(RpcStream s) {
        if (pendingCount() >= cluster.maxPendingRequests()) {
            s.fail(ProxyError.OVERFLOW, "upstream overflow: " + pendingCount() + " requests pending on "
                    + host.address() + " of cluster " + cluster.name());
            return;
        }
        long queued = queuedBytes();
        if (queued > cluster.maxQueuedBytes()) {
            // The provider stopped reading: every further request would wait in our memory, not in its socket.
            s.slot.metrics().requestRefused("cluster_max_queued_bytes");
            s.slot.limitLog().warn(cluster.name() + ":max_queued_bytes", "cluster {}: request refused: {} bytes "
                    + "queued for {} that it does not read (clusters[].max_queued_bytes {})", cluster.name(), queued,
                    host.address(), cluster.maxQueuedBytes());
            s.fail(ProxyError.OVERFLOW, "upstream overflow: " + queued + " bytes queued for " + host.address()
                    + " of cluster " + cluster.name() + ", which is not reading");
            return;
        }
        if (state == State.CONNECTING) {
            waiting.add(s);
            s.waitingOn(this);
        } else if (state == State.ACTIVE) {
            dispatch(s);
        } else {
            s.fail(ProxyError.UPSTREAM_RESET, "upstream connection to " + host.address() + " is closed");
        }
    }

    private void dispatch(RpcStream s) {
        if (s.oneway()) {
            ByteBuf buf = s.encodeForUpstream(codec, nextId());
            if (buf != null) {
                LoopContext.current().write(channel, buf);
                s.onOnewaySent();
            }
            return;
        }
        long id = nextId();
        ByteBuf buf = s.encodeForUpstream(codec, id);
        if (buf == null) {
            return; // the stream failed itself (deadline already passed)
        }
        pending.put(id, s);
        s.sentOn(this, id);
        hostMetrics.request();
        LoopContext.current().write(channel, buf);
    }

    /** Bytes written to the connection that its socket has not taken yet. */
    private long queuedBytes() {
        if (channel == null) {
            return 0;
        }
        io.netty.channel.ChannelOutboundBuffer out = channel.unsafe().outboundBuffer();
        return out == null ? 0 : out.totalPendingWriteBytes();
    }

    private long nextId() {
        for (;;) {
            long id = nextId;
            nextId = id >= maxId ? 1 : id + 1;
            if (!pending.containsKey(id) && id != heartbeatId) {
                return id;
            }
        }
    }

    /** A timed-out stream gives up its slot; a late response for it is then dropped. */
    void forget(RpcStream s, long upstreamId) {
        if (upstreamId >= 0) {
            pending.remove(upstreamId);
        } else {
            waiting.remove(s);
        }
        maybeCloseDrained();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof RpcFrame f)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        switch (f.kind()) {
            case RESPONSE -> {
                RpcStream s = pending.remove(f.requestId());
                if (s == null) {
                    log.debug("late or unknown response id {} from {}, dropped", f.requestId(), host);
                    f.release();
                } else {
                    s.onResponse(f, codec);
                }
                maybeCloseDrained();
            }
            case HEARTBEAT_ACK -> {
                if (f.requestId() == heartbeatId) {
                    missedHeartbeats = 0;
                    heartbeatId = -1;
                }
                f.release();
            }
            case HEARTBEAT -> {
                try {
                    LoopContext.current().write(ctx.channel(), codec.heartbeatAck(f, ctx.alloc()));
                } finally {
                    f.release();
                }
            }
            case DRAIN -> {
                f.release();
                log.info("upstream {} asked to drain its connection; {} call(s) still pending", host, pending.size());
                drain();
            }
            default -> f.release();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        LoopContext.current().flush();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent && state == State.ACTIVE) {
            if (missedHeartbeats >= MAX_MISSED_HEARTBEATS) {
                log.warn("upstream {} missed {} heartbeats, closing", host, missedHeartbeats);
                ctx.close();
                return;
            }
            long id = nextId();
            ByteBuf hb = codec.heartbeat(id, ctx.alloc());
            if (hb != null) {
                heartbeatId = id;
                missedHeartbeats++;
                ctx.writeAndFlush(hb, ctx.voidPromise());
            }
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.warn("upstream {} connection error, closing: {}", host, cause.toString());
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        boolean wasDraining = state == State.DRAINING;
        state = State.CLOSED;
        pool.remove(this);
        boolean withPending = !pending.isEmpty() || !waiting.isEmpty();
        if (everConnected) {
            hostMetrics.closed(withPending);
        }
        if (everConnected && withPending) {
            log.warn("upstream connection to {} closed with {} call(s) pending", host, pending.size());
        }
        failAll(ProxyError.UPSTREAM_RESET, "upstream connection to " + host.address() + " of cluster "
                + cluster.name() + (wasDraining ? " closed while draining" : " was reset"));
        LoopContext.current().flush();
    }

    /** Closes the connection now; pending calls fail (channelInactive), queued ones too if never connected. */
    void close() {
        if (channel != null && channel.isOpen()) {
            channel.close();
        } else if (state != State.CLOSED) {
            state = State.CLOSED;
            pool.remove(this);
            failAll(ProxyError.UPSTREAM_RESET, "sidecar shutting down");
        }
    }

    /** Stop taking new requests; close once the pending ones are answered. */
    void drain() {
        if (state == State.ACTIVE || state == State.CONNECTING) {
            state = State.DRAINING;
            pool.remove(this);
            maybeCloseDrained();
        }
    }

    private void maybeCloseDrained() {
        if (state == State.DRAINING && pending.isEmpty() && waiting.isEmpty() && channel != null) {
            channel.close();
        }
    }

    private void failAll(ProxyError error, String message) {
        List<RpcStream> all = new ArrayList<>(pending.values());
        all.addAll(waiting);
        pending.clear();
        waiting.clear();
        for (RpcStream s : all) {
            s.fail(error, message);
        }
    }

    @Override
    public String toString() {
        return "upstream(" + host + ", " + state + ", pending=" + pending.size() + ")";
    }
}
