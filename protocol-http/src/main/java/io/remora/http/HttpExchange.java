package io.remora.http;

import io.netty.buffer.ByteBuf;
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
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.util.ReferenceCountUtil;
import io.remora.core.cluster.Host;
import io.remora.core.protocol.Protocol;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.proxy.ProxyStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One proxied HTTP request/response (an HTTP/1.1 message exchange or one HTTP/2 stream): the wire half of a
 * {@link ProxyStream} (which runs the filters, routes, picks the host, times out and ends the request). It takes an
 * upstream link from the loop's pool, then streams both bodies with back-pressure (a side stops reading while the
 * other is not writable). Lives on its downstream channel's event loop, which is also its upstream's loop.
 *
 * <p>Two forms of heads: HTTP/1 objects and h2 header blocks ({@link Http2Headers}); each side gets its own form,
 * converted only when the two sides differ (h2 to h2 passes headers and DATA slices through).
 *
 * <p>Ownership: the request head (if it is a full message) and every body chunk are either written onward, queued
 * in {@link #pending} until the upstream is ready, or released.
 */
final class HttpExchange extends ProxyStream {

    /** The engine's request log (the same logger as {@link ProxyStream}'s), for the HTTP connection classes. */
    static final Logger log = LoggerFactory.getLogger("io.remora.proxy");

    private final DownstreamSide down;
    private final HttpSettings settings;
    /** HTTP/1 form of the request head: the caller's, or converted from {@link #h2Request} for an HTTP/1 upstream. */
    private HttpRequest request;
    /** The h2 caller's header block (null for an HTTP/1 caller). */
    private final Http2Headers h2Request;
    private final HttpRequestView view;
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
    private boolean retried;
    /** The upstream speaks HTTP/2 (the cluster says so, or gRPC). */
    private boolean upstreamH2;
    private UpstreamLink link;
    private ResponseClass result = ResponseClass.OK;
    /** The status written to the caller (0: none yet), Istio's {@code response_code}. */
    private int status;
    /** The gRPC status of the answer (-1: none or not gRPC), Istio's {@code grpc_response_status}. */
    private int grpcCode = -1;
    /** The caller went away before the answer ended (Envoy's DC flag). */
    private boolean callerGone;
    /** An h2 upstream's RST_STREAM code, passed on to an h2 caller (-1: none). */
    long upstreamResetCode = -1;

    HttpExchange(DownstreamSide down, HttpRequest request, long startNanos) {
        begin(down.slot(), down.slot().spec(), down.channel(), down.callerIp(), startNanos);
        this.down = down;
        this.settings = down.settings();
        this.request = request;
        this.h2Request = null;
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

    /** A request from an HTTP/2 caller, its header block kept as is; {@code endStream}: no body follows. */
    HttpExchange(DownstreamSide down, Http2Headers headers, boolean endStream, long startNanos) {
        begin(down.slot(), down.slot().spec(), down.channel(), down.callerIp(), startNanos);
        this.down = down;
        this.settings = down.settings();
        this.request = null;
        this.h2Request = headers;
        this.requestVersion = HttpVersion.HTTP_1_1;
        this.keepAlive = true;
        this.requestChunked = false;
        this.head = io.netty.util.AsciiString.contentEquals("HEAD", headers.method());
        HttpHeadersUtil.stripHopByHop(headers);
        String idHeader = settings.requestIdHeader();
        if (!idHeader.isEmpty() && !headers.contains(idHeader)) {
            headers.set(idHeader, HttpHeadersUtil.newRequestId());
        }
        this.view = new HttpRequestView(headers, idHeader);
        this.grpc = view.isGrpc();
        requestReceived = endStream;
    }

    private long requestContentLength() {
        if (h2Request == null) {
            return HttpUtil.getContentLength(request, -1L);
        }
        CharSequence v = h2Request.get(HttpHeaderNames.CONTENT_LENGTH);
        if (v == null) {
            return -1;
        }
        try {
            return Long.parseLong(v.toString().trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private String methodName() {
        return view.method();
    }

    void start() {
        long max = settings.maxRequestBodyBytes();
        if (max > 0 && requestContentLength() > max) {
            failWith(ProxyError.BAD_REQUEST, "request body of " + requestContentLength()
                    + " bytes is over the limit of " + max, 413);
            return;
        }
        runFilters();
    }

    @Override
    protected String describe() {
        return methodName() + " " + view.uri();
    }

    @Override
    protected String describeForRoute() {
        return logName();
    }

    @Override
    protected String logName() {
        return methodName() + " " + view.service() + view.path();
    }

    @Override
    protected String metricService() {
        return grpc ? view.header(":grpc-service") : view.service();
    }

    @Override
    protected String metricMethod() {
        return grpc ? view.header(":grpc-method") : view.method();
    }

    @Override
    protected String callType() {
        return grpc ? "grpc" : "sync";
    }

    @Override
    protected String istioProtocol() {
        return grpc ? "grpc" : "http";
    }

    /** The status actually written to the caller; 0 when the caller left before any (as Envoy reports it). */
    @Override
    protected int responseCode(ResponseClass rc) {
        return status != 0 || callerGone ? status : super.responseCode(rc);
    }

    @Override
    protected int grpcStatus() {
        return grpcCode;
    }

    @Override
    protected boolean downstreamReset() {
        return callerGone;
    }

    /** A try can be replayed only while nothing of the request has gone to an upstream. */
    @Override
    protected boolean replayable() {
        return !requestHeadWritten && !responseStarted;
    }

    @Override
    protected void afterFilters() {
        if (done() || !resolveRoute()) {
            return;
        }
        Protocol p = cluster.protocol();
        if (p == null || p.name().equals("http")) {
            upstreamH2 = grpc; // HTTP/1.1 upstream unless the cluster says http2; gRPC needs HTTP/2
        } else if (p instanceof HttpProtocol) {
            upstreamH2 = p.name().equals("http2");
        } else {
            fail(ProxyError.NO_ROUTE, "cluster " + cluster.name() + " speaks " + p.name() + ", not HTTP");
            return;
        }
        long now = System.nanoTime();
        if (setDeadline(grpc ? HttpHeadersUtil.grpcTimeoutNanos(view.header("grpc-timeout")) : -1, now)) {
            attempt(now, null);
        }
    }

    /** One try: pick a host (avoiding the previous try's), arm the timeout, take a link from the loop's pool. */
    private void attempt(long now, Host avoid) {
        Host h = pickHost(now, avoid);
        if (h == null) {
            return;
        }
        startTry(h, now);
        HttpUpstreams.current().acquire(this, channel.eventLoop(), cluster, h, upstreamH2, false);
    }

    @Override
    protected void retryNow(Host avoid) {
        attempt(System.nanoTime(), avoid);
    }

    // ---- upstream side

    /** A link is ready for this exchange (called on the loop, maybe synchronously from acquire). */
    void upstreamReady(UpstreamLink l) {
        if (done()) {
            l.finished(true);
            return;
        }
        link = l;
        l.exchange = this;
        markSent();
        l.hostMetrics.request();
        if (l.http2()) {
            writeHeadH2(l);
        } else {
            writeHeadH1(l);
        }
        requestHeadWritten = true;
        if (pending != null) {
            HttpContent c;
            while ((c = pending.poll()) != null) {
                writeUp(c);
            }
        }
        if (link == null) {
            return; // failed while writing (an h2 stream that could not be opened)
        }
        l.flush();
        if (!requestReceived) {
            down.setReadable(l.isWritable());
        }
    }

    private void writeHeadH1(UpstreamLink l) {
        boolean retry = requestHeadWritten;
        if (request == null) { // an h2 caller: converted once (a retry reuses it)
            request = Http2Convert.toHttp1Request(h2Request);
        }
        if (!retry) {
            prepareRequestHead(false);
        }
        l.write(request);
        if (request instanceof LastHttpContent) {
            requestSent = true;
        } else if (retry || (h2Request != null && requestReceived && pending == null)) {
            // a retry of a bodiless request (its end went with the dead link), or an h2 request without a body
            l.write(LastHttpContent.EMPTY_LAST_CONTENT);
            requestSent = true;
        }
    }

    private void writeHeadH2(UpstreamLink l) {
        boolean retry = requestHeadWritten;
        Http2Headers h;
        if (h2Request != null) {
            h = h2Request;
            if (!retry) {
                prepareH2RequestHead(h);
            }
        } else {
            if (!retry) {
                prepareRequestHead(true);
            }
            h = Http2Convert.toHttp2(request);
        }
        if (request instanceof LastHttpContent last) { // a full HTTP/1 request (h2c upgrade): body and end follow
            if (!last.content().isReadable() && last.trailingHeaders().isEmpty()) {
                last.release();
                l.writeHeaders(h, true);
            } else {
                l.writeHeaders(h, false);
                l.write(last);
            }
            requestSent = true;
            return;
        }
        boolean end = requestReceived && pending == null && h2Request != null;
        l.writeHeaders(h, end);
        if (end) {
            requestSent = true;
        }
    }

    private void prepareH2RequestHead(Http2Headers h) {
        if (settings.xForwarded()) {
            String ip = down.callerIp();
            CharSequence xff = h.get("x-forwarded-for");
            h.set("x-forwarded-for", xff == null ? ip : xff + ", " + ip);
            if (!h.contains("x-forwarded-proto")) {
                h.set("x-forwarded-proto", "http");
            }
        }
        h.scheme(HTTP);
    }

    private static final io.netty.util.AsciiString HTTP = io.netty.util.AsciiString.cached("http");

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
                    && (requestChunked || (down.http2() && !(h2Request != null && requestReceived
                    && pending == null)))) {
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
        UpstreamLink l = link;
        if (c instanceof Http2Convert.Trailers t) {
            if (l.http2()) {
                l.writeHeaders(t.headers, true);
            } else {
                l.write(Http2Convert.toHttp1Trailers(t.headers));
            }
            return;
        }
        l.write(c);
    }

    void upstreamWritabilityChanged() {
        UpstreamLink l = link;
        if (!done() && !requestReceived && l != null) {
            down.setReadable(l.isWritable());
        }
    }

    void upstreamClosed() {
        if (done()) {
            return;
        }
        UpstreamLink l = link;
        link = null;
        if (!responseStarted && l != null && l.reused && !retried && requestReceived && requestBytes == 0
                && !(request instanceof FullHttpMessage) && pending == null) {
            // a pooled keep-alive connection the server had closed meanwhile: try once on a fresh one
            retried = true;
            cluster.metrics().requestDone(-1);
            HttpUpstreams.current().acquire(this, down.channel().eventLoop(), cluster, host, l.http2(), true);
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
        if (done()) {
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
            result = classify(r.headers().get("grpc-status"), code);
            if (msg instanceof HttpContent c) {
                responseBytes += c.content().readableBytes();
            }
            String st = msg instanceof LastHttpContent last && grpc ? last.trailingHeaders().get("grpc-status") : null;
            down.write(r);
            if (msg instanceof LastHttpContent) {
                responseEnd(st);
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
        if (c instanceof LastHttpContent last) {
            String st = grpc ? last.trailingHeaders().get("grpc-status") : null;
            down.write(c);
            responseEnd(st);
        } else {
            down.write(c);
            if (!down.isWritable()) {
                link.setReadable(false);
            }
        }
    }

    /** A response head (or trailers-only response) from an h2 upstream. */
    void onResponseHeaders(Http2Headers h, boolean endStream) {
        if (done()) {
            return;
        }
        int code = Http2Convert.status(h);
        if (code >= 100 && code < 200 && !endStream) {
            return; // informational
        }
        if (code < 100) {
            UpstreamLink l = link;
            link = null;
            l.finished(false);
            fail(ProxyError.UPSTREAM_RESET, "malformed response from " + host.address() + ": :status " + h.status());
            return;
        }
        answeredNanos = System.nanoTime();
        responseStarted = true;
        CharSequence st = grpc ? h.get("grpc-status") : null;
        result = classify(st, code);
        if (down.http2()) {
            HttpHeadersUtil.stripHopByHop(h);
            down.writeHeaders(h, endStream);
        } else {
            HttpResponse r = Http2Convert.toHttp1Response(h, code);
            if (endStream) {
                r = new io.netty.handler.codec.http.DefaultFullHttpResponse(r.protocolVersion(), r.status(),
                        io.netty.buffer.Unpooled.EMPTY_BUFFER, r.headers(),
                        io.netty.handler.codec.http.EmptyHttpHeaders.INSTANCE);
            }
            prepareResponseHead(r);
            down.write(r);
        }
        if (endStream) {
            responseEnd(st);
        }
    }

    /** A response body chunk from an h2 upstream (owned). */
    void onResponseData(ByteBuf data, boolean endStream) {
        if (done() || !responseStarted) {
            data.release();
            return;
        }
        responseBytes += data.readableBytes();
        down.writeData(data, endStream);
        if (endStream) {
            responseEnd(null);
        } else if (!down.isWritable()) {
            link.setReadable(false);
        }
    }

    /** Response trailers from an h2 upstream (end of the response). */
    void onResponseTrailers(Http2Headers t) {
        if (done() || !responseStarted) {
            return;
        }
        CharSequence st = grpc ? t.get("grpc-status") : null;
        if (down.http2()) {
            down.writeHeaders(t, true);
        } else {
            down.write(Http2Convert.toHttp1Trailers(t));
        }
        responseEnd(st);
    }

    private void prepareResponseHead(HttpResponse r) {
        HttpHeaders h = r.headers();
        upstreamKeepAlive = link == null || link.http2() || HttpUtil.isKeepAlive(r);
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

    private ResponseClass classify(CharSequence st, int code) {
        status = code;
        if (grpc && st != null) {
            grpcCode = grpcCode(st);
            return grpcClass(st.toString());
        }
        if (code == 504) {
            return ResponseClass.TIMEOUT;
        }
        if (code >= 500) {
            return ResponseClass.RPC_ERROR;
        }
        return code >= 400 ? ResponseClass.BUSINESS_ERROR : ResponseClass.OK;
    }

    /** A {@code grpc-status} value as a number (2, UNKNOWN, when it is not one). */
    private static int grpcCode(CharSequence st) {
        int n = 0;
        int len = st.length();
        int i = 0;
        while (i < len && st.charAt(i) == ' ') {
            i++;
        }
        while (len > i && st.charAt(len - 1) == ' ') {
            len--;
        }
        if (i == len || len - i > 3) {
            return HttpErrors.UNKNOWN;
        }
        for (; i < len; i++) {
            char c = st.charAt(i);
            if (c < '0' || c > '9') {
                return HttpErrors.UNKNOWN;
            }
            n = n * 10 + (c - '0');
        }
        return n;
    }

    private static ResponseClass grpcClass(String st) {
        return switch (st.trim()) {
            case "0" -> ResponseClass.OK;
            case "4" -> ResponseClass.TIMEOUT;
            case "2", "8", "13", "14" -> ResponseClass.RPC_ERROR;
            default -> ResponseClass.BUSINESS_ERROR;
        };
    }

    private void responseEnd(CharSequence grpcStatus) {
        if (grpcStatus != null) {
            grpcCode = grpcCode(grpcStatus);
            result = grpcClass(grpcStatus.toString());
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
        if (l != null) {
            l.finished(linkReusable);
        }
        finish(result);
        down.exchangeDone(this, closeDownstream);
    }

    // ---- downstream side

    void onRequestContent(HttpContent c) {
        boolean last = c instanceof LastHttpContent;
        if (last) {
            requestReceived = true;
        }
        if (done() || responseDone) {
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
        if (link == null) {
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
        if (!last && link != null && !link.isWritable()) {
            down.setReadable(false);
        }
    }

    /** A request body chunk from an h2 caller (owned). */
    void onRequestData(ByteBuf data, boolean endStream) {
        UpstreamLink l = link;
        if (l == null || done() || responseDone) {
            onRequestContent(Http2Convert.content(data, endStream)); // queued, refused or dropped there
            return;
        }
        if (endStream) {
            requestReceived = true;
        }
        requestBytes += data.readableBytes();
        long max = settings.maxRequestBodyBytes();
        if (max > 0 && requestBytes > max) {
            data.release();
            if (responseStarted) {
                abort(ResponseClass.RPC_ERROR, "request body over the limit of " + max + " bytes");
            } else {
                failWith(ProxyError.BAD_REQUEST, "request body over the limit of " + max + " bytes", 413);
            }
            return;
        }
        if (endStream) {
            requestSent = true;
        }
        l.writeData(data, endStream);
        if (!endStream && link != null && !l.isWritable()) {
            down.setReadable(false);
        }
    }

    /** Request trailers from an h2 caller (the end of its body). */
    void onRequestTrailers(Http2Headers t) {
        onRequestContent(new Http2Convert.Trailers(t));
    }

    void downstreamReadComplete() {
        UpstreamLink l = link;
        if (l != null) {
            l.flush();
        }
    }

    void downstreamWritabilityChanged() {
        UpstreamLink l = link;
        if (!done() && l != null && down.isWritable()) {
            l.setReadable(true);
        }
    }

    void flushDownstream() {
        FlushBatch.flushLater(down.channel());
    }

    /** The caller went away. */
    void downstreamClosed() {
        if (done()) {
            return;
        }
        callerGone = true;
        cancelTimeout();
        if (cluster != null && requestHeadWritten) {
            cluster.metrics().requestDone(-1);
        }
        closeDownstream = true;
        UpstreamLink l = link;
        link = null;
        finish(ResponseClass.RPC_ERROR); // first: the link's close below must find the exchange ended
        if (l != null) {
            l.finished(false);
        }
        releasePending();
    }

    // ---- failures

    /** The request's deadline passed. */
    @Override
    protected void onTimeout() {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
        String msg = "upstream " + host.address() + " did not finish " + methodName() + " " + view.path()
                + " within " + ms + " ms";
        if (responseStarted && grpc && down.http2()) {
            cluster.metrics().failure(ProxyError.TIMEOUT);
            Http2Headers trailers = new DefaultHttp2Headers(false);
            trailers.setInt("grpc-status", HttpErrors.DEADLINE_EXCEEDED)
                    .set("grpc-message", HttpErrors.percentEncode("remora: timeout: " + msg))
                    .set(HttpErrors.ERROR_HEADER, "timeout");
            down.writeHeaders(trailers, true);
            grpcCode = HttpErrors.DEADLINE_EXCEEDED;
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

    /** Answers with a native error (or resets a started response) and ends the request, unless a retry is due. */
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
        if (l != null) {
            l.finished(false);
        }
        releasePending();
        if (!requestHeadWritten) {
            if (request != null) {
                ReferenceCountUtil.release(request);
            }
            requestHeadWritten = true;
        }
        String cause = HttpErrors.cause(error);
        FullHttpResponse r = grpc && down.http2()
                ? HttpErrors.grpc(HttpErrors.grpcStatus(error, nativeStatus), cause, message)
                : HttpErrors.http(HttpErrors.httpStatus(error, nativeStatus), cause, head ? null : message,
                        down.channel().alloc());
        if (!settings.requestIdHeader().isEmpty()) {
            String id = view.header(settings.requestIdHeader());
            if (id != null) {
                r.headers().set(settings.requestIdHeader(), id);
            }
        }
        if (!requestReceived) {
            closeDownstream = true;
        }
        connectionHeader(r);
        status = r.status().code();
        if (grpc && down.http2()) {
            grpcCode = r.headers().getInt("grpc-status", HttpErrors.UNKNOWN);
        }
        responseStarted = true;
        responseDone = true;
        responseBytes = r.content().readableBytes();
        down.write(r);
        flushDownstream();
        logFailure(error, message);
        result = error.responseClass();
        finish(result);
        down.exchangeDone(this, closeDownstream);
    }

    /** A failure after the response head went out: nothing to say any more, so reset the caller's stream. */
    private void abort(ResponseClass rc, String message) {
        if (done()) {
            return;
        }
        cancelTimeout();
        log.info("{} {} {} {}{}: aborted mid-response: {}", spec.name(), view.protocol(), methodName(),
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

    // ---- RequestContext

    @Override
    public RequestHeaders request() {
        return view;
    }

    @Override
    public boolean oneway() {
        return false;
    }

    @Override
    public void respondError(ProxyError error, String message) {
        failWith(error, message, -1);
    }

    @Override
    public void respondError(ProxyError error, String message, int nativeStatus) {
        failWith(error, message, nativeStatus);
    }

    /** Drain: close the connection after this exchange ({@code Connection: close} if the head is not out yet). */
    void closeConnectionAfter() {
        closeDownstream = true;
    }
}
