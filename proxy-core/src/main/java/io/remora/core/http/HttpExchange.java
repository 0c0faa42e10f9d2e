package io.remora.core.http;

import io.netty.channel.Channel;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ScheduledFuture;
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
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.proxy.OriginalDestination;
import io.remora.core.router.HostSelector;
import io.remora.core.router.Route;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied HTTP request/response (an HTTP/1.1 message exchange or one HTTP/2 stream): filters, routing, an
 * upstream link from the loop's pool, then both bodies streamed with back-pressure (a side stops reading while the
 * other is not writable). Lives on its downstream channel's event loop, which is also its upstream's loop.
 *
 * <p>Ownership: the request head (if it is a full message) and every body chunk are either written onward, queued
 * in {@link #pending} until the upstream is ready, or released.
 */
final class HttpExchange extends FilteredRequest implements Runnable {

    static final Logger log = LoggerFactory.getLogger("io.remora.proxy");
    static final long DEFAULT_TIMEOUT_MILLIS = 30_000;

    private final DownstreamSide down;
    private final ListenerSpec spec;
    private final HttpSettings settings;
    private final HttpRequest request;
    private final HttpRequestView view;
    private final long startNanos;
    private final boolean grpc;
    private final boolean head;
    private final boolean keepAlive;
    private final boolean requestChunked;
    private final HttpVersion requestVersion;
    private boolean requestHeadWritten;
    private ArrayDeque<HttpContent> pending;
    private boolean requestReceived;
    private boolean requestSent;
    private boolean responseStarted;
    private boolean responseDone;
    private boolean upstreamKeepAlive = true;
    private boolean closeDownstream;
    private boolean skipLast;
    private boolean done;
    private boolean retried;
    private UpstreamLink link;
    private Channel up;
    private Cluster cluster;
    private Host host;
    private Route route;
    private ScheduledFuture<?> timeoutTask;
    private long requestBytes;
    private long responseBytes;
    private long sentNanos;
    private long answeredNanos;
    private ResponseClass result = ResponseClass.OK;

    HttpExchange(DownstreamSide down, HttpRequest request, long startNanos) {
        this.down = down;
        this.spec = down.slot().spec();
        this.settings = down.settings();
        this.request = request;
        this.startNanos = startNanos;
        this.requestVersion = request.protocolVersion();
        this.keepAlive = down.http2() || HttpUtil.isKeepAlive(request);
        this.requestChunked = HttpUtil.isTransferEncodingChunked(request);
        this.head = HttpMethod.HEAD.equals(request.method());
        HttpHeaders h = request.headers();
        HttpHeadersUtil.stripHopByHop(h);
        if (!settings.requestIdHeader().isEmpty() && !h.contains(settings.requestIdHeader())) {
            h.set(settings.requestIdHeader(), HttpHeadersUtil.newRequestId());
        }
        this.view = new HttpRequestView(request, down.http2() ? "http2" : "http1", settings.requestIdHeader());
        this.grpc = view.isGrpc();
        if (request instanceof LastHttpContent last) {
            requestReceived = true;
            requestBytes = last.content().readableBytes();
        }
    }

    boolean isDone() {
        return done;
    }

    void start() {
        long max = settings.maxRequestBodyBytes();
        if (max > 0 && HttpUtil.getContentLength(request, -1L) > max) {
            failWith(ProxyError.BAD_REQUEST, "request body of " + HttpUtil.getContentLength(request, -1L)
                    + " bytes is over the limit of " + max, 413);
            return;
        }
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
        return request.method() + " " + request.uri();
    }

    private void route() {
        if (done) {
            return;
        }
        Route r = spec.routes().match(view, destination());
        if (r == null) {
            fail(ProxyError.NO_ROUTE, "no route for " + request.method() + " " + view.service() + view.path()
                    + " on listener " + spec.name());
            return;
        }
        route = r;
        String clusterName = r.pickCluster();
        Cluster c = spec.snapshot().cluster(clusterName);
        if (c == null) {
            fail(ProxyError.NO_ROUTE, "cluster " + clusterName + " does not exist");
            return;
        }
        cluster = c;
        Protocol p = c.protocol();
        boolean h2;
        if (p == null || p.name().equals("http")) {
            h2 = grpc; // HTTP/1.1 upstream unless the cluster says http2; gRPC needs HTTP/2
        } else if (p instanceof HttpProtocol) {
            h2 = p.name().equals("http2");
        } else {
            fail(ProxyError.NO_ROUTE, "cluster " + c.name() + " speaks " + p.name() + ", not HTTP");
            return;
        }
        long now = System.nanoTime();
        // Label routing (HostSelector) narrows the cluster for HTTP exactly as for RPC streams.
        HostSelector selector = c.isOriginalDst() ? null : spec.snapshot().hostSelector();
        HostSet set = selector == null ? null : selector.select(this, c);
        Host h = c.isOriginalDst() ? OriginalDestination.host(c, down.slot(), destination())
                : set == null ? c.choose(now) : set.choose(now);
        if (h == null) {
            fail(ProxyError.NO_HEALTHY_UPSTREAM, c.isOriginalDst() ? "no original destination (connection made to the"
                    + " listener itself) for cluster " + c.name() : "no healthy upstream in cluster " + c.name()
                    + (set != null ? " (no instance in the routed label group)" : ""));
            return;
        }
        host = h;
        long grpcTimeout = grpc ? HttpHeadersUtil.grpcTimeoutNanos(request.headers().get("grpc-timeout")) : -1;
        long timeoutNanos = grpcTimeout > 0 ? grpcTimeout
                : TimeUnit.MILLISECONDS.toNanos(r.timeoutMillis() > 0 ? r.timeoutMillis() : DEFAULT_TIMEOUT_MILLIS);
        long remaining = startNanos + timeoutNanos - now;
        if (remaining <= 0) {
            fail(ProxyError.TIMEOUT, "deadline passed before forwarding");
            return;
        }
        timeoutTask = down.channel().eventLoop().schedule(this, remaining, TimeUnit.NANOSECONDS);
        HttpUpstreams.current().acquire(this, down.channel().eventLoop(), c, h, h2, false);
    }

    // ---- upstream side

    /** A link is ready for this exchange (called on the loop, maybe synchronously from acquire). */
    void upstreamReady(UpstreamLink l) {
        if (done) {
            l.finished(true);
            return;
        }
        link = l;
        l.exchange = this;
        up = l.channel;
        if (!requestHeadWritten) {
            prepareRequestHead(l.http2());
        }
        sentNanos = System.nanoTime();
        cluster.metrics().requestSent();
        l.hostMetrics.request();
        up.write(request, up.voidPromise());
        if (requestHeadWritten) { // a retry of a bodiless request: the original end of body went with the dead link
            up.write(LastHttpContent.EMPTY_LAST_CONTENT, up.voidPromise());
        }
        requestHeadWritten = true;
        if (request instanceof LastHttpContent) {
            requestSent = true;
        }
        if (pending != null) {
            HttpContent c;
            while ((c = pending.poll()) != null) {
                writeUp(c);
            }
        }
        FlushBatch.flushLater(up);
        if (!requestReceived) {
            down.setReadable(up.isWritable());
        }
    }

    private void prepareRequestHead(boolean h2) {
        HttpHeaders h = request.headers();
        if (settings.xForwarded()) {
            String ip = down.callerIp();
            String xff = h.get("x-forwarded-for");
            h.set("x-forwarded-for", xff == null ? ip : xff + ", " + ip);
            if (!h.contains("x-forwarded-proto")) {
                h.set("x-forwarded-proto", "http");
            }
        }
        if (h2) {
            h.set(HttpHeadersUtil.SCHEME_EXT, "http");
        } else {
            request.setProtocolVersion(HttpVersion.HTTP_1_1);
            if (!(request instanceof FullHttpMessage) && !HttpUtil.isContentLengthSet(request)
                    && (requestChunked || down.http2())) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            }
        }
    }

    void upstreamFailed(ProxyError error, String message) {
        fail(error, message);
    }

    private void writeUp(HttpContent c) {
        if (c instanceof LastHttpContent) {
            requestSent = true;
        }
        up.write(c, up.voidPromise());
    }

    void upstreamWritabilityChanged() {
        if (!done && !requestReceived && up != null) {
            down.setReadable(up.isWritable());
        }
    }

    void upstreamClosed() {
        if (done) {
            return;
        }
        UpstreamLink l = link;
        link = null;
        up = null;
        if (!responseStarted && l != null && l.reused && !retried && requestReceived && requestBytes == 0
                && !(request instanceof FullHttpMessage)) {
            // a pooled keep-alive connection the server had closed meanwhile: try once on a fresh one
            retried = true;
            cluster.metrics().requestDone(-1);
            HttpUpstreams.current().acquire(this, down.channel().eventLoop(), cluster, host, false, true);
            return;
        }
        if (!responseStarted) {
            fail(ProxyError.UPSTREAM_RESET, "upstream " + host.address() + " closed the "
                    + (l != null && l.http2() ? "stream" : "connection") + " before responding");
        } else {
            abort(ResponseClass.RPC_ERROR, "upstream " + host.address() + " reset mid-response");
        }
        flushDownstream();
    }

    void onResponseObject(Object msg) {
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse r) {
            if (r.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                link.finished(false);
                link = null;
                if (responseStarted) {
                    abort(ResponseClass.RPC_ERROR, "malformed response from " + host.address());
                } else {
                    fail(ProxyError.UPSTREAM_RESET, "malformed response from " + host.address() + ": "
                            + r.decoderResult().cause());
                }
                return;
            }
            int code = r.status().code();
            if (code >= 100 && code < 200) {
                skipLast = !(msg instanceof LastHttpContent); // informational: dropped with its empty end
                ReferenceCountUtil.release(msg);
                return;
            }
            answeredNanos = System.nanoTime();
            prepareResponseHead(r);
            responseStarted = true;
            result = classify(r.headers(), code);
            if (msg instanceof HttpContent c) {
                responseBytes += c.content().readableBytes();
            }
            down.channel().write(r, down.channel().voidPromise());
            if (msg instanceof LastHttpContent last) {
                responseEnd(last);
            }
            return;
        }
        if (!(msg instanceof HttpContent c) || !responseStarted) {
            if (skipLast && msg instanceof LastHttpContent) {
                skipLast = false;
            }
            ReferenceCountUtil.release(msg);
            return;
        }
        responseBytes += c.content().readableBytes();
        Channel d = down.channel();
        d.write(c, d.voidPromise());
        if (c instanceof LastHttpContent last) {
            responseEnd(last);
        } else if (!d.isWritable()) {
            up.config().setAutoRead(false);
        }
    }

    private void prepareResponseHead(HttpResponse r) {
        HttpHeaders h = r.headers();
        upstreamKeepAlive = link.http2() || HttpUtil.isKeepAlive(r);
        boolean chunked = HttpUtil.isTransferEncodingChunked(r);
        HttpHeadersUtil.stripHopByHop(h);
        if (down.http2()) {
            return;
        }
        r.setProtocolVersion(HttpVersion.HTTP_1_1);
        int code = r.status().code();
        boolean bodyless = head || code == 204 || code == 304;
        if (!bodyless && !HttpUtil.isContentLengthSet(r)) {
            if (r instanceof FullHttpMessage full && full.trailingHeaders().isEmpty()) {
                HttpUtil.setContentLength(r, full.content().readableBytes());
            } else if (requestVersion.equals(HttpVersion.HTTP_1_1) || chunked) {
                h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
            } else {
                closeDownstream = true; // an HTTP/1.0 caller reads to end of connection
            }
        }
        connectionHeader(r);
    }

    private void connectionHeader(HttpResponse r) {
        if (down.http2()) {
            return;
        }
        if (!keepAlive || closeDownstream || !requestReceived) {
            closeDownstream = true;
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (!requestVersion.equals(HttpVersion.HTTP_1_1)) {
            r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
    }

    private ResponseClass classify(HttpHeaders h, int code) {
        if (grpc) {
            String st = h.get("grpc-status");
            if (st != null) {
                return grpcClass(st);
            }
        }
        if (code == 504) {
            return ResponseClass.TIMEOUT;
        }
        if (code >= 500) {
            return ResponseClass.RPC_ERROR;
        }
        return code >= 400 ? ResponseClass.BUSINESS_ERROR : ResponseClass.OK;
    }

    private static ResponseClass grpcClass(String st) {
        return switch (st.trim()) {
            case "0" -> ResponseClass.OK;
            case "4" -> ResponseClass.TIMEOUT;
            case "2", "8", "13", "14" -> ResponseClass.RPC_ERROR;
            default -> ResponseClass.BUSINESS_ERROR;
        };
    }

    private void responseEnd(LastHttpContent last) {
        if (grpc) {
            String st = last.trailingHeaders().get("grpc-status");
            if (st != null) {
                result = grpcClass(st);
            }
        }
        responseDone = true;
        cancelTimeout();
        cluster.metrics().requestDone(System.nanoTime() - sentNanos);
        flushDownstream();
        if (!requestReceived) {
            closeDownstream = true; // the caller is still sending: stop the rest (HTTP/1: close, HTTP/2: reset)
        }
        finish(requestSent && upstreamKeepAlive);
    }

    private void finish(boolean linkReusable) {
        UpstreamLink l = link;
        link = null;
        up = null;
        if (l != null) {
            l.finished(linkReusable);
        }
        complete(result);
        down.exchangeDone(this, closeDownstream);
    }

    // ---- downstream side

    void onRequestContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (last) {
            requestReceived = true;
        }
        if (done || responseDone) {
            c.release();
            return;
        }
        requestBytes += c.content().readableBytes();
        long max = settings.maxRequestBodyBytes();
        if (max > 0 && requestBytes > max) {
            c.release();
            if (responseStarted) {
                abort(ResponseClass.RPC_ERROR, "request body over the limit of " + max + " bytes");
            } else {
                failWith(ProxyError.BAD_REQUEST, "request body over the limit of " + max + " bytes", 413);
            }
            return;
        }
        if (up == null) {
            if (pending == null) {
                pending = new ArrayDeque<>(4);
            }
            pending.add(c);
            if (!last) {
                down.setReadable(false); // at most one read's worth waits for the upstream
            }
            return;
        }
        writeUp(c);
        if (!last && !up.isWritable()) {
            down.setReadable(false);
        }
    }

    void downstreamReadComplete() {
        Channel u = up;
        if (u != null) {
            FlushBatch.flushLater(u);
        }
    }

    void downstreamWritabilityChanged() {
        Channel u = up;
        if (!done && u != null && down.channel().isWritable()) {
            u.config().setAutoRead(true);
        }
    }

    void flushDownstream() {
        FlushBatch.flushLater(down.channel());
    }

    /** The caller went away. */
    void downstreamClosed() {
        if (done) {
            return;
        }
        cancelTimeout();
        if (cluster != null && requestHeadWritten) {
            cluster.metrics().requestDone(-1);
        }
        closeDownstream = true;
        done = true;
        UpstreamLink l = link;
        link = null;
        up = null;
        if (l != null) {
            l.finished(false);
        }
        releasePending();
        complete(ResponseClass.RPC_ERROR);
    }

    // ---- failures

    /** The timeout task. */
    @Override
    public void run() {
        timeoutTask = null;
        if (done) {
            return;
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        String msg = "upstream " + host.address() + " did not finish " + request.method() + " " + view.path()
                + " within " + ms + " ms";
        if (responseStarted && grpc && down.http2()) {
            cluster.metrics().failure(ProxyError.TIMEOUT);
            LastHttpContent trailers = new DefaultLastHttpContent();
            trailers.trailingHeaders().setInt("grpc-status", HttpErrors.DEADLINE_EXCEEDED)
                    .set("grpc-message", HttpErrors.percentEncode("remora: timeout: " + msg))
                    .set(HttpErrors.ERROR_HEADER, "timeout");
            down.channel().write(trailers, down.channel().voidPromise());
            result = ResponseClass.TIMEOUT;
            responseDone = true;
            if (!requestReceived) {
                closeDownstream = true;
            }
            cluster.metrics().requestDone(-1);
            finish(false);
        } else if (responseStarted) {
            cluster.metrics().failure(ProxyError.TIMEOUT);
            abort(ResponseClass.TIMEOUT, msg);
        } else {
            fail(ProxyError.TIMEOUT, msg);
        }
        flushDownstream();
    }

    @Override
    protected void fail(ProxyError error, String message) {
        failWith(error, message, -1);
    }

    private void failWith(ProxyError error, String message, int nativeStatus) {
        if (done) {
            return;
        }
        if (responseStarted) {
            if (cluster != null) {
                cluster.metrics().failure(error);
            }
            abort(error.responseClass(), message);
            return;
        }
        cancelTimeout();
        if (cluster != null) {
            if (requestHeadWritten) {
                cluster.metrics().requestDone(-1);
            }
            cluster.metrics().failure(error);
        }
        UpstreamLink l = link;
        link = null;
        up = null;
        if (l != null) {
            l.finished(false);
        }
        releasePending();
        if (!requestHeadWritten) {
            ReferenceCountUtil.release(request);
            requestHeadWritten = true;
        }
        String cause = HttpErrors.cause(error);
        FullHttpResponse r = grpc && down.http2()
                ? HttpErrors.grpc(HttpErrors.grpcStatus(error, nativeStatus), cause, message)
                : HttpErrors.http(HttpErrors.httpStatus(error, nativeStatus), cause, head ? null : message,
                        down.channel().alloc());
        if (!settings.requestIdHeader().isEmpty()) {
            String id = request.headers().get(settings.requestIdHeader());
            if (id != null) {
                r.headers().set(settings.requestIdHeader(), id);
            }
        }
        if (!requestReceived) {
            closeDownstream = true;
        }
        connectionHeader(r);
        responseStarted = true;
        responseDone = true;
        responseBytes = r.content().readableBytes();
        down.channel().writeAndFlush(r, down.channel().voidPromise());
        if (log.isInfoEnabled()) {
            log.info("{} {} {} {}{} from {}: {} ({})", spec.name(), view.protocol(), request.method(), view.service(),
                    view.path(), callerIp(), error, message);
        }
        result = error.responseClass();
        complete(result);
        down.exchangeDone(this, closeDownstream);
    }

    /** A failure after the response head went out: nothing to say any more, so reset the caller's stream. */
    private void abort(ResponseClass rc, String message) {
        if (done) {
            return;
        }
        cancelTimeout();
        log.info("{} {} {} {}{}: aborted mid-response: {}", spec.name(), view.protocol(), request.method(),
                view.service(), view.path(), message);
        if (cluster != null && requestHeadWritten && !responseDone) {
            cluster.metrics().requestDone(-1);
        }
        releasePending();
        closeDownstream = true;
        result = rc;
        finish(false);
    }

    private void releasePending() {
        if (pending != null) {
            HttpContent c;
            while ((c = pending.poll()) != null) {
                c.release();
            }
        }
    }

    private void cancelTimeout() {
        ScheduledFuture<?> t = timeoutTask;
        if (t != null) {
            timeoutTask = null;
            t.cancel(false);
        }
    }

    private void complete(ResponseClass rc) {
        done = true;
        long duration = System.nanoTime() - startNanos;
        String service = grpc ? view.header(":grpc-service") : view.service();
        String method = grpc ? view.header(":grpc-method") : view.method();
        down.slot().metrics().request(service, method, rc, (int) Math.min(Integer.MAX_VALUE, requestBytes),
                (int) Math.min(Integer.MAX_VALUE, responseBytes), duration);
        if (host != null && sentNanos != 0) {
            host.recordResult(!rc.isError());
        }
        DigestLog digest = down.slot().digest();
        boolean inbound = spec.direction() == Direction.INBOUND;
        DigestLog.Entry d = digest != null && digest.enabled(inbound) ? digest.claim(inbound) : null;
        if (d != null) {
            long upstreamNanos = answeredNanos != 0 ? answeredNanos - sentNanos : 0;
            try { // published even if a getter throws: the writer waits for every claimed entry
                d.time(System.currentTimeMillis()).app(localApp()).traceId(view.traceId()).service(service)
                        .method(method).protocol(view.protocol()).callType(grpc ? "grpc" : "sync")
                        .target(host == null ? null : host.address(), null).result(rc.digestCode())
                        .bytes(requestBytes, responseBytes)
                        .micros(duration / 1000, (duration - upstreamNanos) / 1000).callerIp(callerIp());
            } finally {
                digest.publish(d);
            }
        }
        completeFilters(rc, duration);
        if (rc == ResponseClass.OK && log.isInfoEnabled()) {
            log.info("{} {} {} {}{} from {} -> {} {}: {} in {} us", spec.name(), view.protocol(), request.method(),
                    view.service(), view.path(), callerIp(), cluster == null ? "-" : cluster.name(),
                    host == null ? "-" : host.address(), rc, TimeUnit.NANOSECONDS.toMicros(duration));
        }
    }

    // ---- RequestContext

    @Override
    public RequestHeaders request() {
        return view;
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
        return down.callerIp();
    }

    @Override
    public java.net.InetSocketAddress destination() {
        return OriginalDestination.of(down.channel());
    }

    @Override
    public String localApp() {
        return down.slot().localApp();
    }

    @Override
    public boolean oneway() {
        return false;
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public void respondError(ProxyError error, String message) {
        failWith(error, message, -1);
    }

    @Override
    public void respondError(ProxyError error, String message, int nativeStatus) {
        failWith(error, message, nativeStatus);
    }

    @Override
    public EventExecutor executor() {
        return down.channel().eventLoop();
    }

    /** Drain: close the connection after this exchange ({@code Connection: close} if the head is not out yet). */
    void closeConnectionAfter() {
        closeDownstream = true;
    }
}
