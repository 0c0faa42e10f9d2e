package io.remora.core.proxy;

import io.netty.buffer.ByteBuf;
import io.remora.core.cluster.Host;
import io.remora.core.config.ListenerSpec;
import io.remora.core.protocol.FrameKind;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.protocol.RpcCodec;
import io.remora.core.protocol.RpcFrame;
import io.remora.core.router.RetryPolicy;
import java.util.concurrent.TimeUnit;

/**
 * One proxied RPC request (Bolt, Dubbo, any {@link RpcCodec}), from decode to its answer: the wire half of a
 * {@link ProxyStream}. It rides a multiplexed upstream connection (which patches the request id in place) and writes
 * the answer back. It is the pending entry, the timeout-wheel entry and the filters' context at once, so a request
 * costs one object of ours, and not even that in steady state: a stream that ended on the plain path (never paused by
 * a filter, never retried) is reused by the loop for a later request. Lives on one event loop.
 *
 * <p>Ownership: the stream holds one reference to the request frame from {@link #open} to {@link #complete}; a copy
 * of the reference goes to the codec when forwarding.
 */
final class RpcStream extends ProxyStream {

    private DownstreamConnection downstream;
    private RpcFrame frame;
    private long downstreamId;
    private boolean oneway;
    private UpstreamConnection upstream;
    private long upstreamId = -1;
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
        s.runFilters();
        return s;
    }

    private void init(DownstreamConnection downstream, RpcFrame frame, ListenerSpec spec, long startNanos) {
        begin(downstream.slot(), spec, downstream.channel(), downstream.callerIp(), startNanos);
        this.recycled = false;
        this.downstream = downstream;
        this.frame = frame;
        this.downstreamId = frame.requestId();
        this.oneway = frame.kind() == FrameKind.ONEWAY;
        this.requestBytes = frame.size();
        upstream = null;
        upstreamId = -1;
    }

    /**
     * Back to the loop's free list: only when nothing can still reach this stream (see {@link #complete}). It is reused
     * only by a later decoded request, so code still running in this call stack (a filter that answered the request
     * itself) sees an ended request, as before; the request, listener and connection stay readable until then.
     */
    private void recycle() {
        forgetRouting();
        upstream = null;
        recycled = true;
        LoopContext.current().recycle(this);
    }

    @Override
    protected String describe() {
        return frame.service() + "#" + frame.method();
    }

    @Override
    protected String describeForRoute() {
        return "service " + frame.service() + " method " + frame.method();
    }

    @Override
    protected String forWhat() {
        return " for service " + frame.service();
    }

    @Override
    protected void afterFilters() {
        if (done() || !resolveRoute()) {
            return;
        }
        long now = System.nanoTime();
        long requestTimeout = frame.timeoutMillis() > 0 ? TimeUnit.MILLISECONDS.toNanos(frame.timeoutMillis()) : 0;
        if (setDeadline(requestTimeout, now)) {
            attempt(now, null);
        }
    }

    /** One try: pick a host (avoiding the previous try's), arm the try's timeout, ride an upstream connection. */
    private void attempt(long now, Host avoid) {
        Host h = pickHost(now, avoid);
        if (h == null) {
            return;
        }
        upstream = null;
        upstreamId = -1;
        startTry(h, now);
        RpcCodec codec = cluster.codecFor(downstream.codec());
        LoopContext.current().pool.connection(downstream.eventLoop(), cluster, h, codec).send(this);
    }

    @Override
    protected void retryNow(Host avoid) {
        attempt(System.nanoTime(), avoid);
        LoopContext.current().flush();
    }

    /** The request bytes for the upstream, with {@code id} and the remaining timeout patched in. Null if too late. */
    ByteBuf encodeForUpstream(RpcCodec codec, long id) {
        assert !recycled : "stream used after it was recycled";
        if (done()) {
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
        markSent();
    }

    void onOnewaySent() {
        markSent();
        cluster.metrics().requestDone(-1);
        complete(ResponseClass.OK);
    }

    void onResponse(RpcFrame response, RpcCodec upstreamCodec) {
        assert !recycled : "stream used after it was recycled";
        if (done()) {
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

    /** The current try's deadline passed. */
    @Override
    protected void onTimeout() {
        assert !recycled : "stream used after it was recycled";
        UpstreamConnection u = upstream;
        long id = upstreamId;
        if (perTryTimeout() && maybeRetry(RetryPolicy.TIMEOUT, true, "per-try timeout of "
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

    /** Answers with the protocol's native error and ends the request, unless the failed try is retried. */
    @Override
    protected void fail(ProxyError error, String message) {
        if (!retryFor(error, message)) {
            failWith(error, message, -1);
        }
    }

    private void failWith(ProxyError error, String message, int nativeStatus) {
        if (done()) {
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
        logFailure(error, message);
        complete(error.responseClass());
    }

    private void complete(ResponseClass result) {
        if (!finish(result)) {
            return;
        }
        // Reused only when nothing else can reach it: a paused filter's timer or a retry task may still hold it.
        boolean reuse = !heldElsewhere && !everPaused();
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
    public boolean oneway() {
        return oneway;
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
}
