package io.remora.core.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.util.concurrent.EventExecutor;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.HostSet;
import io.remora.core.config.ListenerSpec;
import io.remora.core.digest.DigestLog;
import io.remora.core.filter.Direction;
import io.remora.core.filter.FilteredRequest;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import io.remora.core.router.HostSelector;
import io.remora.core.router.RetryPolicy;
import io.remora.core.router.Route;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied request, from decode to its answer: runs the filter chain, routes, picks a host, rides an upstream
 * connection and writes the answer back. It is the pending entry, the timeout-wheel entry and the filters' context at
 * once, so a request costs one object of ours, and not even that in steady state: a stream that ended on the plain
 * path (never paused by a filter, never retried) is reused by the loop for a later request. Lives on one event loop;
 * never touched from another thread.
 *
 * <p>Ownership: the stream holds one reference to the request frame from {@link #open} to {@link #complete}; a copy
 * of the reference goes to the codec when forwarding.
 */
final class RpcStream extends FilteredRequest implements TimeoutWheel.Entry {

    private static final Logger log = LoggerFactory.getLogger("io.remora.proxy");
    /** When neither the request nor the route sets a timeout. */
    static final long DEFAULT_TIMEOUT_MILLIS = 30_000;

    private DownstreamConnection downstream;
    private RpcFrame frame;
    private ListenerSpec spec;
    private long downstreamId;
    private boolean oneway;
    private long startNanos;
    private Cluster cluster;
    private Host host;
    private Route route;
    private UpstreamConnection upstream;
    private long upstreamId = -1;
    private long deadlineNanos;
    private boolean done;
    private int requestBytes;
    private int responseBytes;
    /** When the request was written upstream (0 = never), and when its response came back (0 = never). */
    private long sentNanos;
    private long answeredNanos;
    /** Hosts this request may go to (whole cluster or a label-routing subset); retry state. */
    private HostSet hostSet;
    private RetryPolicy retry;
    private int retries;
    /** True while {@link #host}'s active-request count includes this request's current try. */
    private boolean activeCounted;
    /** Deadline of the current try (per-try timeout), or {@link #deadlineNanos}. */
    private long tryDeadlineNanos;
    /** The loop's timeout wheel and this stream's links in it (slot -1: not in the wheel). */
    private TimeoutWheel wheel;
    private TimeoutWheel.Entry wheelPrev;
    private TimeoutWheel.Entry wheelNext;
    private long wheelDeadline;
    private int wheelSlot = -1;
    /** False once something other than the engine's plain path may hold this stream (a scheduled retry). */
    private boolean reusable;
    /** In the loop's free list: any use is a bug (checked with assertions). */
    private boolean recycled;

    private RpcStream() {
    }

    /** Starts a stream for a decoded request, reusing one of the loop's free streams when there is one. */
    static RpcStream open(DownstreamConnection downstream, RpcFrame frame, ListenerSpec spec, long startNanos) {
        RpcStream s = LoopContext.current().takeStream();
        if (s == null) {
            s = new RpcStream();
        }
        s.init(downstream, frame, spec, startNanos);
        s.start();
        return s;
    }

    private void init(DownstreamConnection downstream, RpcFrame frame, ListenerSpec spec, long startNanos) {
        this.recycled = false;
        this.reusable = true;
        this.done = false;
        this.downstream = downstream;
        this.frame = frame;
        this.spec = spec;
        this.downstreamId = frame.requestId();
        this.oneway = frame.kind() == io.remora.core.protocol.FrameKind.ONEWAY;
        this.startNanos = startNanos;
        this.requestBytes = frame.size();
        upstreamId = -1;
        deadlineNanos = 0;
        responseBytes = 0;
        sentNanos = 0;
        answeredNanos = 0;
        retries = 0;
        activeCounted = false;
        tryDeadlineNanos = 0;
        resetFilterChain();
    }

    /**
     * Back to the loop's free list: only when nothing can still reach this stream (see {@link #complete}). It is reused
     * only by a later decoded request, so code still running in this call stack (a filter that answered the request
     * itself) sees an ended request, as before; the request, listener and connection stay readable until then.
     */
    private void recycle() {
        cluster = null;
        host = null;
        route = null;
        upstream = null;
        hostSet = null;
        retry = null;
        done = true;
        recycled = true;
        LoopContext.current().recycle(this);
    }

    void start() {
        runFilters();
    }

    @Override
    protected StreamFilter[] filters() {
        return spec.filters();
    }

    @Override
    protected boolean done() {
        return done;
    }

    @Override
    protected void afterFilters() {
        route();
    }

    @Override
    protected String describe() {
        return frame.service() + "#" + frame.method();
    }

    private void route() {
        if (done) {
            return;
        }
        Route r = spec.routes().match(frame, destination());
        if (r == null) {
            fail(ProxyError.NO_ROUTE, "no route for service " + frame.service() + " method " + frame.method()
                    + " on listener " + spec.name());
            return;
        }
        route = r;
        String clusterName = r.pickCluster();
        Cluster c = spec.snapshot().cluster(clusterName);
        if (c == null) {
            fail(ProxyError.NO_ROUTE, "cluster " + clusterName + " for service " + frame.service() + " does not exist");
            return;
        }
        cluster = c;
        HostSelector selector = spec.snapshot().hostSelector();
        HostSet set = selector == null ? null : selector.select(this, c);
        hostSet = set == null ? c.hostSet() : set;
        retry = r.retryPolicy();
        long now = System.nanoTime();
        long timeoutMillis = frame.timeoutMillis() > 0 ? frame.timeoutMillis()
                : r.timeoutMillis() > 0 ? r.timeoutMillis() : DEFAULT_TIMEOUT_MILLIS;
        deadlineNanos = startNanos + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        if (deadlineNanos - now <= 0) {
            fail(ProxyError.TIMEOUT, "timeout of " + timeoutMillis + " ms passed before forwarding");
            return;
        }
        attempt(now, null);
    }

    /** One try: pick a host (avoiding the previous try's), arm the try's timeout, ride an upstream connection. */
    private void attempt(long now, Host avoid) {
        Host h = cluster.isOriginalDst() ? OriginalDestination.host(cluster, downstream.slot(), destination())
                : hostSet.choose(now, avoid);
        if (h == null && cluster.isOriginalDst()) {
            fail(ProxyError.NO_HEALTHY_UPSTREAM, "no original destination (connection made to the listener itself) for"
                    + " cluster " + cluster.name() + " for service " + frame.service());
            return;
        }
        if (h == null) {
            fail(ProxyError.NO_HEALTHY_UPSTREAM, "no healthy upstream in cluster " + cluster.name() + " for service "
                    + frame.service() + (hostSet != cluster.hostSet() ? " (no instance in the routed label group)" : ""));
            return;
        }
        host = h;
        upstream = null;
        upstreamId = -1;
        sentNanos = 0;
        answeredNanos = 0;
        tryDeadlineNanos = deadlineNanos;
        if (retry != null && retry.perTryTimeoutMillis() > 0) {
            long perTry = now + TimeUnit.MILLISECONDS.toNanos(retry.perTryTimeoutMillis());
            if (perTry - deadlineNanos < 0) {
                tryDeadlineNanos = perTry;
            }
        }
        if (!oneway) {
            TimeoutWheel w = wheel;
            if (w == null) {
                w = LoopContext.current().timeouts(downstream.eventLoop());
                wheel = w;
            }
            w.add(this, tryDeadlineNanos);
        }
        h.requestStarted();
        activeCounted = true;
        RpcCodec codec = cluster.codecFor(downstream.codec());
        LoopContext.current().pool.connection(downstream.eventLoop(), cluster, h, codec).send(this);
    }

    /**
     * Retries after a failed try when the route's policy allows it, the request cannot have reached the provider (or
     * the route is idempotent) and the backoff fits in the deadline. Returns true if a retry is scheduled.
     */
    private boolean maybeRetry(int cause, boolean maySent, String reason) {
        RetryPolicy p = retry;
        if (p == null || done || host == null || retries >= p.numRetries() || !p.retries(cause, maySent)) {
            return false;
        }
        long backoff = p.backoffMillis(retries + 1);
        long now = System.nanoTime();
        if (deadlineNanos - now <= TimeUnit.MILLISECONDS.toNanos(backoff)) {
            return false;
        }
        cancelTimeout();
        if (sentNanos != 0) {
            cluster.metrics().requestDone(-1);
        }
        endTry(false);
        retries++;
        reusable = false; // the retry task below holds the stream
        Host previous = host;
        if (log.isDebugEnabled()) {
            log.debug("{} {}#{}: retry {} of {} after {} ms: {}", spec.name(), frame.service(), frame.method(),
                    retries, p.numRetries(), backoff, reason);
        }
        Runnable again = () -> {
            if (!done) {
                attempt(System.nanoTime(), previous);
                LoopContext.current().flush();
            }
        };
        if (backoff > 0) {
            downstream.eventLoop().schedule(again, backoff, TimeUnit.MILLISECONDS);
        } else {
            downstream.eventLoop().execute(again);
        }
        return true;
    }

    /** Ends the current try's accounting on its host: active count, and its outcome for stats and fault isolation. */
    private void endTry(boolean ok) {
        Host h = host;
        if (h == null) {
            return;
        }
        if (activeCounted) {
            activeCounted = false;
            h.requestEnded();
        }
        if (sentNanos != 0 || !ok) {
            h.recordResult(ok);
            if (cluster.outlier() != null) {
                h.recordOutcome(ok, System.nanoTime());
            }
        }
    }

    /** The request bytes for the upstream, with {@code id} and the remaining timeout patched in. Null if too late. */
    ByteBuf encodeForUpstream(RpcCodec codec, long id) {
        assert !recycled : "stream used after it was recycled";
        if (done) {
            return null;
        }
        int timeout = -1;
        if (frame.timeoutMillis() >= 0) {
            long remainingMs = TimeUnit.NANOSECONDS.toMillis(tryDeadlineNanos - System.nanoTime());
            if (remainingMs <= 0 && !oneway) {
                fail(ProxyError.TIMEOUT, "timeout of " + frame.timeoutMillis() + " ms passed while connecting to "
                        + host.address());
                return null;
            }
            timeout = (int) Math.max(1, Math.min(Integer.MAX_VALUE, remainingMs));
        }
        frame.retain();
        return codec.encodeRequest(frame, id, timeout);
    }

    void waitingOn(UpstreamConnection c) {
        upstream = c;
        upstreamId = -1;
    }

    void sentOn(UpstreamConnection c, long id) {
        upstream = c;
        upstreamId = id;
        sentNanos = System.nanoTime();
        cluster.metrics().requestSent();
    }

    void onOnewaySent() {
        sentNanos = System.nanoTime();
        cluster.metrics().requestSent();
        cluster.metrics().requestDone(-1);
        complete(ResponseClass.OK);
    }

    void onResponse(RpcFrame response, RpcCodec upstreamCodec) {
        assert !recycled : "stream used after it was recycled";
        if (done) {
            response.release();
            return;
        }
        ResponseClass rc = response.responseClass();
        if (rc == ResponseClass.RPC_ERROR && maybeRetry(RetryPolicy.RETRIABLE_STATUS, true,
                "error response from " + host.address())) {
            response.release();
            return;
        }
        cancelTimeout();
        answeredNanos = System.nanoTime();
        cluster.metrics().requestDone(answeredNanos - sentNanos);
        responseBytes = response.size();
        downstream.write(upstreamCodec.encodeResponse(response, downstreamId));
        complete(rc);
    }

    // ---- TimeoutWheel.Entry: the links are the wheel's

    @Override
    public TimeoutWheel.Entry wheelPrev() {
        return wheelPrev;
    }

    @Override
    public void wheelPrev(TimeoutWheel.Entry e) {
        wheelPrev = e;
    }

    @Override
    public TimeoutWheel.Entry wheelNext() {
        return wheelNext;
    }

    @Override
    public void wheelNext(TimeoutWheel.Entry e) {
        wheelNext = e;
    }

    @Override
    public long wheelDeadline() {
        return wheelDeadline;
    }

    @Override
    public int wheelSlot() {
        return wheelSlot;
    }

    @Override
    public void wheelSet(int slot, long deadlineNanos) {
        wheelSlot = slot;
        wheelDeadline = deadlineNanos;
    }

    /** The current try's deadline passed. */
    @Override
    public void expired() {
        assert !recycled : "stream used after it was recycled";
        if (done) {
            return;
        }
        UpstreamConnection u = upstream;
        long id = upstreamId;
        if (tryDeadlineNanos != deadlineNanos && maybeRetry(RetryPolicy.TIMEOUT, true, "per-try timeout of "
                + retry.perTryTimeoutMillis() + " ms on " + host.address())) {
            if (u != null) {
                u.forget(this, id);
            }
            LoopContext.current().flush();
            return;
        }
        if (u != null) {
            u.forget(this, id);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        fail(ProxyError.TIMEOUT, "upstream " + (host == null ? "" : host.address() + " ") + "did not answer "
                + frame.service() + "#" + frame.method() + " within " + ms + " ms");
        LoopContext.current().flush();
    }

    /** Answers with the protocol's native error and ends the request. */
    @Override
    protected void fail(ProxyError error, String message) {
        if (!done && host != null && retry != null) {
            boolean retried = switch (error) {
                // Never reached the provider: safe to retry on any route.
                case UPSTREAM_CONNECT_FAILURE, OVERFLOW -> maybeRetry(RetryPolicy.CONNECT_FAILURE, false, message);
                case UPSTREAM_RESET -> maybeRetry(RetryPolicy.RESET, sentNanos != 0, message);
                default -> false;
            };
            if (retried) {
                return;
            }
        }
        failWith(error, message, -1);
    }

    private void failWith(ProxyError error, String message, int nativeStatus) {
        if (done) {
            return;
        }
        cancelTimeout();
        if (cluster != null) {
            if (sentNanos != 0) {
                cluster.metrics().requestDone(-1);
            }
            cluster.metrics().failure(error);
        }
        if (!oneway) {
            RpcCodec codec = downstream.codec();
            ByteBuf reply = nativeStatus >= 0
                    ? codec.errorResponse(frame, error, message, nativeStatus, downstream.alloc())
                    : codec.errorResponse(frame, error, message, downstream.alloc());
            responseBytes = reply.readableBytes();
            downstream.write(reply);
        }
        if (log.isInfoEnabled()) {
            log.info("{} {} {}#{} from {}: {} ({})", spec.name(), frame.protocol(), frame.service(),
                    frame.method(), callerIp(), error, message);
        }
        complete(error.responseClass());
    }

    private void cancelTimeout() {
        if (wheelSlot >= 0) {
            wheel.remove(this);
        }
    }

    private void complete(ResponseClass result) {
        if (done) {
            return;
        }
        done = true;
        cancelTimeout();
        long end = System.nanoTime();
        long duration = end - startNanos;
        downstream.metrics().request(frame.service(), frame.method(), result, requestBytes, responseBytes, duration);
        endTry(!result.isError());
        DigestLog digest = downstream.digest();
        boolean inbound = spec.direction() == Direction.INBOUND;
        DigestLog.Entry d = digest != null && digest.enabled(inbound) ? digest.claim(inbound) : null;
        if (d != null) {
            long upstreamNanos = answeredNanos != 0 ? answeredNanos - sentNanos : 0;
            try { // published even if a getter throws: the writer waits for every claimed entry
                d.time(System.currentTimeMillis()).app(localApp()).traceId(frame.traceId()).rpcId(frame.rpcId())
                        .service(frame.service()).method(frame.method()).protocol(frame.protocol())
                        .callType(oneway ? "oneway" : "sync").target(host == null ? null : host.address(),
                                frame.targetApp()).result(result.digestCode()).bytes(requestBytes, responseBytes)
                        .micros(duration / 1000, (duration - upstreamNanos) / 1000).callerIp(callerIp());
            } finally {
                digest.publish(d);
            }
        }
        completeFilters(result, duration);
        if (result == ResponseClass.OK && log.isInfoEnabled()) {
            log.info("{} {} {}#{} from {} -> {} {}: {} in {} us", spec.name(), frame.protocol(), frame.service(),
                    frame.method(), callerIp(), cluster == null ? "-" : cluster.name(),
                    host == null ? "-" : host.address(), result, TimeUnit.NANOSECONDS.toMicros(duration));
        }
        // Reused only when nothing else can reach it: a paused filter's timer or a retry task may still hold it.
        boolean reuse = reusable && !everPaused();
        if (!reuse) {
            frame.keepObject(); // a late filter may still read the request through this stream
        }
        frame.release();
        downstream.streamDone();
        if (reuse) {
            recycle();
        }
    }

    // ---- RequestContext

    @Override
    public RequestHeaders request() {
        return frame;
    }

    @Override
    public String listenerName() {
        return spec.name();
    }

    @Override
    public Direction direction() {
        return spec.direction();
    }

    @Override
    public String callerIp() {
        return downstream.callerIp();
    }

    @Override
    public java.net.InetSocketAddress destination() {
        return OriginalDestination.of(downstream.channel());
    }

    @Override
    public String localApp() {
        return downstream.localApp();
    }

    @Override
    public boolean oneway() {
        return oneway;
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public void respondError(ProxyError error, String message) {
        assert !recycled : "stream used after it was recycled";
        failWith(error, message, -1);
        LoopContext.current().flush(); // an async filter answers outside any read batch
    }

    @Override
    public void respondError(ProxyError error, String message, int nativeStatus) {
        assert !recycled : "stream used after it was recycled";
        failWith(error, message, nativeStatus);
        LoopContext.current().flush(); // an async filter answers outside any read batch
    }

    @Override
    public void resume() {
        assert !recycled : "stream used after it was recycled";
        super.resume();
        LoopContext.current().flush();
    }

    @Override
    public EventExecutor executor() {
        return downstream.eventLoop();
    }

}
