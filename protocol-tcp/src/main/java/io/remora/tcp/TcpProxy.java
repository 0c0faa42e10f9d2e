package io.remora.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.config.ListenerSpec;
import io.remora.core.digest.DigestLog;
import io.remora.core.filter.Direction;
import io.remora.core.metrics.HostMetrics;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.proxy.ConnectionHandoff;
import io.remora.core.proxy.ListenerManager;
import io.remora.core.proxy.ListenerSlot;
import io.remora.core.proxy.OriginalDestination;
import io.remora.core.router.Route;
import io.remora.core.tls.TransportSockets;
import io.remora.core.transport.Transport;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied TCP connection: on accept (on the downstream's event loop) it picks a route by destination, a host of
 * the route's cluster, and connects; then bytes flow both ways unparsed. Back-pressure: a side whose peer is not
 * writable stops reading (autoRead) until the peer drains. Half-close: a FIN from one side is passed on as a
 * shutdown of the other side's output, and the pair closes once both directions ended (or either side closed or
 * reset). Idle: the listener's idle timeout (its idle handler sees both directions' traffic) closes both.
 *
 * <p>Threading: the upstream channel is registered on the downstream's loop, so every callback here runs on one thread.
 */
final class TcpProxy extends ChannelInboundHandlerAdapter implements ConnectionHandoff {

    private static final Logger log = LoggerFactory.getLogger("io.remora.proxy");
    /** How often a draining connection checks whether it went quiet. */
    private static final long DRAIN_CHECK_MILLIS = 200;

    /** The routing view of a TCP connection: no service, no method, no headers; routes match on destination only. */
    static final RequestHeaders TCP = new RequestHeaders() {
        @Override public String protocol() { return "tcp"; }
        @Override public String service() { return null; }
        @Override public String method() { return null; }
        @Override public String header(String name) { return null; }
        @Override public void forEachHeader(BiConsumer<String, String> visitor) { }
    };

    private final ListenerSlot slot;
    private Channel down;
    private Channel up;
    private ListenerSpec spec;
    private Cluster cluster;
    private Host host;
    private HostMetrics hostMetrics;
    private String callerIp = "";
    /** Bytes read from the caller before the upstream connected (autoRead is off, but a replayed peek arrives). */
    private ArrayDeque<ByteBuf> early;
    private boolean started;
    private boolean upConnected;
    private boolean downInputShut;
    private boolean upInputShut;
    private boolean finished;
    private boolean counted;
    private boolean draining;
    private long drainSeen = -1;
    private long received;
    private long sent;
    private long startNanos;
    private ResponseClass result = ResponseClass.OK;

    TcpProxy(ListenerSlot slot) {
        this.slot = slot;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        down = ctx.channel();
        if (down.remoteAddress() instanceof InetSocketAddress a) {
            callerIp = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        }
        down.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        slot.connections().add(down);
        if (down.hasAttr(ListenerManager.ADOPTED)) {
            slot.metrics().connectionAdopted();
        } else {
            slot.metrics().connectionOpened();
        }
        counted = true;
        if (down.isActive()) {
            start(); // installed after the connection was accepted (a filter chain chosen by its first bytes)
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start();
        ctx.fireChannelActive();
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        startNanos = System.nanoTime();
        down.config().setAutoRead(false); // nothing is read until there is somewhere to send it
        spec = slot.spec();
        InetSocketAddress destination = OriginalDestination.of(down);
        Route route = spec.routes().match(TCP, destination);
        if (route == null) {
            fail(ResponseClass.ROUTING_FAILURE, "no route for a TCP connection to " + destination);
            return;
        }
        String name = route.pickCluster();
        cluster = spec.snapshot().cluster(name);
        if (cluster == null) {
            fail(ResponseClass.ROUTING_FAILURE, "cluster " + name + " does not exist");
            return;
        }
        host = cluster.isOriginalDst() ? OriginalDestination.host(cluster, slot, destination)
                : cluster.choose(startNanos);
        if (host == null) {
            fail(ResponseClass.ROUTING_FAILURE, cluster.isOriginalDst()
                    ? "no original destination (connection made to the listener itself) for cluster " + name
                    : "no healthy upstream in cluster " + name);
            return;
        }
        host.requestStarted();
        hostMetrics = cluster.metrics().host(host.address());
        Bootstrap b = Transport.get().upstreamBootstrap(down.eventLoop(), cluster.connectTimeoutMillis())
                .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        TransportSockets.install(ch, cluster, host);
                        ch.pipeline().addLast("tcp-upstream", new Upstream());
                    }
                });
        ChannelFuture f = b.connect(host.socketAddress());
        up = f.channel();
        f.addListener((ChannelFutureListener) this::onConnect);
    }

    private void onConnect(ChannelFuture f) {
        if (!f.isSuccess()) {
            host.markConnectFailure(System.nanoTime());
            hostMetrics.connectFailed();
            String reason = f.cause() == null ? "unknown" : f.cause().getMessage();
            log.warn("{}: cannot connect to upstream {} of cluster {} for {}: {}", spec.name(), host.address(),
                    cluster.name(), callerIp, reason);
            result = ResponseClass.RPC_ERROR;
            closeBoth();
            return;
        }
        if (!down.isActive()) {
            up.close();
            return;
        }
        upConnected = true;
        host.markConnected();
        hostMetrics.opened();
        if (early != null) {
            ByteBuf b;
            while ((b = early.poll()) != null) {
                up.write(b, up.voidPromise());
            }
            early = null;
            up.flush();
        }
        if (downInputShut) {
            shutdownOutput(up);
        } else {
            down.config().setAutoRead(true);
        }
        up.config().setAutoRead(true);
    }

    private void fail(ResponseClass why, String message) {
        result = why;
        log.info("{}: closing TCP connection from {}: {}", spec.name(), callerIp, message);
        down.close();
    }

    // ---- caller → upstream

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf b)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        int n = b.readableBytes();
        received += n;
        slot.metrics().bytes(n, 0);
        if (!upConnected) {
            if (up == null && started && cluster == null) {
                b.release(); // failed: the connection is closing
                return;
            }
            if (early == null) {
                early = new ArrayDeque<>(2);
            }
            early.add(b); // owned here until the upstream connects (or released in finish)
            return;
        }
        up.write(b, up.voidPromise()); // ownership to the upstream channel
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upConnected) {
            up.flush();
            if (!up.isWritable()) {
                down.config().setAutoRead(false); // resumed when the upstream drains
            }
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (down.isWritable() && upConnected && !upInputShut) {
            up.config().setAutoRead(true);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof ChannelInputShutdownEvent) {
            downInputShut = true;
            if (upConnected) {
                shutdownOutput(up);
            }
            closeIfBothShut();
        } else if (evt instanceof IdleStateEvent) {
            log.debug("{}: TCP connection from {} idle, closing", spec == null ? slot.name() : spec.name(), callerIp);
            closeBoth();
        } else {
            ctx.fireUserEventTriggered(evt);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closeBoth();
        finish();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("{}: TCP connection from {} failed: {}", slot.name(), callerIp, cause.toString());
        closeBoth();
    }

    // ---- upstream → caller

    private final class Upstream extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof ByteBuf b)) {
                ReferenceCountUtil.release(msg);
                return;
            }
            int n = b.readableBytes();
            sent += n;
            slot.metrics().bytes(0, n);
            down.write(b, down.voidPromise()); // ownership to the downstream channel
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            down.flush();
            if (!down.isWritable()) {
                up.config().setAutoRead(false); // resumed when the caller drains
            }
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            if (up.isWritable() && down.isActive() && !downInputShut) {
                down.config().setAutoRead(true);
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent) {
                upInputShut = true;
                shutdownOutput(down);
                closeIfBothShut();
            } else {
                ctx.fireUserEventTriggered(evt);
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (upConnected) {
                hostMetrics.closed(false);
            }
            closeBoth();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            log.debug("{}: upstream {} of a TCP connection failed: {}", slot.name(), host, cause.toString());
            result = ResponseClass.RPC_ERROR;
            closeBoth();
        }
    }

    // ---- the end

    /** Passes a FIN on: the peer's output is shut once what was written before it is flushed. */
    private static void shutdownOutput(Channel ch) {
        if (!ch.isActive()) {
            return;
        }
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            if (ch.isActive()) {
                ((DuplexChannel) ch).shutdownOutput();
            }
        });
    }

    private void closeIfBothShut() {
        if (downInputShut && upInputShut) { // before the upstream connects, its FIN is passed on once it does
            closeBoth();
        }
    }

    /** Closes both sides after flushing what each was given. */
    private void closeBoth() {
        flushAndClose(down);
        if (up != null) {
            flushAndClose(up);
        }
    }

    private static void flushAndClose(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        } else {
            ch.close();
        }
    }

    /** Once, when the caller's side is gone: host accounting, the listener's session meter, the digest line. */
    private void finish() {
        if (finished) {
            return;
        }
        finished = true;
        if (early != null) {
            early.forEach(ReferenceCountUtil::release);
            early = null;
        }
        if (counted) {
            counted = false;
            slot.metrics().connectionClosed();
        }
        if (!started) {
            return;
        }
        long duration = System.nanoTime() - startNanos;
        if (host != null) {
            host.requestEnded();
            host.recordResult(!result.isError());
        }
        String service = cluster == null ? null : cluster.name();
        slot.metrics().session(service, result, duration);
        DigestLog digest = slot.digest();
        boolean inbound = spec.direction() == Direction.INBOUND;
        DigestLog.Entry d = digest != null && digest.enabled(inbound) ? digest.claim(inbound) : null;
        if (d != null) {
            try {
                d.time(System.currentTimeMillis()).app(slot.localApp()).service(service).protocol("tcp")
                        .callType("stream").target(host == null ? null : host.address(), null)
                        .result(result.digestCode()).bytes(received, sent)
                        .micros(duration / 1000, 0).callerIp(callerIp);
            } finally {
                digest.publish(d);
            }
        }
        if (log.isInfoEnabled()) {
            log.info("{} tcp from {} -> {} {}: {} in {} ms, {} B in, {} B out", spec.name(), callerIp,
                    cluster == null ? "-" : cluster.name(), host == null ? "-" : host.address(), result,
                    TimeUnit.NANOSECONDS.toMillis(duration), received, sent);
        }
    }

    // ---- drain and upgrade

    /** Bytes are in flight in both directions at any time: never at a request boundary. */
    @Override
    public boolean quiescent() {
        return false;
    }

    /** An opaque stream cannot be moved to another process (its upstream socket stays here). */
    @Override
    public boolean migratable() {
        return false;
    }

    /** A TCP stream has no graceful end of its own: it is closed once it has been quiet for a moment. */
    @Override
    public void closeGracefully() {
        if (!down.eventLoop().inEventLoop()) {
            down.eventLoop().execute(this::closeGracefully);
            return;
        }
        if (!draining) {
            draining = true;
            checkDrained();
        }
    }

    private void checkDrained() {
        long seen = received + sent;
        if (seen == drainSeen || !down.isActive()) {
            closeBoth();
            return;
        }
        drainSeen = seen;
        down.eventLoop().schedule(this::checkDrained, DRAIN_CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }
}
