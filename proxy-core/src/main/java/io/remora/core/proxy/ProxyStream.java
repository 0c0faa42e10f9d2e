package io.remora.core.proxy;

import io.netty.channel.Channel;
import io.netty.util.concurrent.EventExecutor;
import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.HostSet;
import io.remora.core.config.ListenerSpec;
import io.remora.core.digest.DigestLog;
import io.remora.core.metrics.IstioMetrics;
import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;
import io.remora.core.router.HostSelector;
import io.remora.core.router.RetryPolicy;
import io.remora.core.router.Route;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of one proxied request, written once for every engine (the RPC engine's {@link RpcStream}, the HTTP
 * plugin's exchanges): the filters' {@link RequestContext}, the filter chain, route → cluster → host pick, the host
 * accounting of each try, retries by the route's policy, the timeout on the loop's wheel, and the end (listener
 * metrics, the digest line, the filters' {@code onComplete}, the log line). A subclass keeps only its wire logic: how
 * a try rides an upstream, how an answer or an error is written, what its digest fields are.
 *
 * <p>Threading: a stream lives on its downstream connection's event loop, which is also the loop of every upstream
 * it uses; nothing here is touched from another thread. A subclass is one allocation per request (or none, when it
 * reuses objects): the chain state, the wheel links and the try state are fields, not helper objects.
 */
public abstract class ProxyStream implements RequestContext, TimeoutWheel.Entry {

    protected static final Logger log = LoggerFactory.getLogger("io.remora.proxy");
    /** When neither the request nor the route sets a timeout. */
    public static final long DEFAULT_TIMEOUT_MILLIS = 30_000;

    // ---- context: fixed for the request's life
    protected ListenerSlot slot;
    protected ListenerSpec spec;
    /** The downstream connection (an HTTP/2 stream's connection). */
    protected Channel channel;
    protected String callerIp;
    protected long startNanos;

    // ---- filter chain
    private int filterIndex;
    /** Filters [0, passed) let the request through. */
    private int passed;
    private Object[] filterStates;
    /** A filter paused the request: someone else (a timer, another thread) holds it and may come back to it. */
    private boolean paused;

    // ---- routing and the current try
    protected Route route;
    protected Cluster cluster;
    /** Hosts this request may go to: the whole cluster or a label-routing subset. */
    protected HostSet hostSet;
    protected Host host;
    /** True while {@link #host}'s active-request count includes the current try. */
    private boolean activeCounted;
    /** When the current try was written upstream (0 = not yet), and when its answer began (0 = not yet). */
    protected long sentNanos;
    protected long answeredNanos;
    protected long requestBytes;
    protected long responseBytes;
    private boolean done;
    /** Why the sidecar answered the request itself (null: the provider answered); Istio's response code and flags. */
    private ProxyError answeredBy;
    private boolean shed;

    // ---- retries: the route's policy, tries so far
    protected RetryPolicy retry;
    protected int retries;
    /** False once something other than the engine's plain path holds the stream (a scheduled retry). */
    protected boolean heldElsewhere;

    // ---- timeouts: the whole request's deadline, the current try's, and this entry's links in the loop's wheel
    protected long deadlineNanos;
    protected long tryDeadlineNanos;
    private TimeoutWheel wheel;
    private TimeoutWheel.Entry wheelPrev;
    private TimeoutWheel.Entry wheelNext;
    private long wheelDeadline;
    private int wheelSlot = -1;

    protected ProxyStream() {
    }

    /** Starts the stream's state for a new request (also for a reused object). */
    protected final void begin(ListenerSlot slot, ListenerSpec spec, Channel channel, String callerIp,
                               long startNanos) {
        this.slot = slot;
        this.spec = spec;
        this.channel = channel;
        this.callerIp = callerIp;
        this.startNanos = startNanos;
        filterIndex = 0;
        passed = 0;
        filterStates = null;
        paused = false;
        route = null;
        cluster = null;
        hostSet = null;
        host = null;
        activeCounted = false;
        sentNanos = 0;
        answeredNanos = 0;
        requestBytes = 0;
        responseBytes = 0;
        done = false;
        answeredBy = null;
        shed = false;
        retry = null;
        retries = 0;
        heldElsewhere = false;
        deadlineNanos = 0;
        tryDeadlineNanos = 0;
    }

    /** Drops references to routing state so a pooled object does not pin an old snapshot. */
    protected final void forgetRouting() {
        route = null;
        cluster = null;
        hostSet = null;
        host = null;
        retry = null;
    }

    // ---- what a subclass says about itself

    /** The request as log lines and errors name it, e.g. {@code svc#method} or {@code GET host/path}. */
    protected abstract String describe();

    /** The phrase naming the target in routing errors: {@code " for service X"}, or {@code ""}. */
    protected String forWhat() {
        return "";
    }

    /** The request's service and method for metrics and digests (gRPC: the gRPC service and method). */
    protected String metricService() {
        return request().service();
    }

    protected String metricMethod() {
        return request().method();
    }

    /** The digest's call type: {@code sync}, {@code oneway}, {@code grpc}. */
    protected String callType() {
        return oneway() ? "oneway" : "sync";
    }

    /** Istio's {@code request_protocol}: the RPC protocol's name here; HTTP says {@code http} or {@code grpc}. */
    protected String istioProtocol() {
        return request().protocol();
    }

    /**
     * The HTTP-style status Istio's {@code response_code} shows. For RPC protocols: 200 when the provider answered
     * normally, 500 for its business or RPC errors, 504 for its timeout; the sidecar's own answers by their cause
     * (404 no route, 503 no healthy upstream / connect failure / reset / overflow / open circuit, 429 rate limited,
     * 403 unauthorized, 400 bad request). HTTP overrides it with the status it actually wrote.
     */
    protected int responseCode(ResponseClass result) {
        ProxyError e = answeredBy;
        if (e != null) {
            return switch (e) {
                case NO_ROUTE -> 404;
                case TIMEOUT -> 504;
                case RATE_LIMITED -> 429;
                case UNAUTHORIZED -> 403;
                case BAD_REQUEST -> 400;
                default -> 503;
            };
        }
        return switch (result) {
            case OK -> 200;
            case TIMEOUT -> 504;
            case ROUTING_FAILURE -> 404;
            default -> 500;
        };
    }

    /** Istio's {@code grpc_response_status}: -1 (none) here; gRPC exchanges say their status. */
    protected int grpcStatus() {
        return -1;
    }

    /** Envoy's response flag of how the request ended, as an index of Istio's flag table. */
    private int responseFlag() {
        ProxyError e = answeredBy;
        if (e == null) {
            return downstreamReset() ? IstioMetrics.FLAG_DC : IstioMetrics.FLAG_NONE;
        }
        return switch (e) {
            case NO_ROUTE -> IstioMetrics.FLAG_NR;
            case NO_HEALTHY_UPSTREAM -> IstioMetrics.FLAG_UH;
            case UPSTREAM_CONNECT_FAILURE -> IstioMetrics.FLAG_UF;
            case UPSTREAM_RESET -> IstioMetrics.FLAG_UR;
            case TIMEOUT -> IstioMetrics.FLAG_UT;
            case OVERFLOW -> shed ? IstioMetrics.FLAG_OM : IstioMetrics.FLAG_UO;
            case CIRCUIT_OPEN -> IstioMetrics.FLAG_UO;
            case RATE_LIMITED -> IstioMetrics.FLAG_RL;
            case UNAUTHORIZED -> IstioMetrics.FLAG_UAEX;
            case FAULT_INJECTED -> IstioMetrics.FLAG_FI;
            case BAD_REQUEST -> IstioMetrics.FLAG_DPE;
            default -> IstioMetrics.FLAG_NONE;
        };
    }

    /** True if the caller went away before the answer (Envoy's DC flag). */
    protected boolean downstreamReset() {
        return false;
    }

    /** Every filter let the request through: route and forward. */
    protected abstract void afterFilters();

    /** Answers with the protocol's native error and ends the request (may retry first). */
    protected abstract void fail(ProxyError error, String message);

    /** The current try's deadline passed (the entry is already out of the wheel). */
    protected abstract void onTimeout();

    /** Starts another try after {@link #maybeRetry} (the previous try's host is {@code avoid}). */
    protected abstract void retryNow(Host avoid);

    /** Whether this request can be sent again now (e.g. its body was not streamed away). */
    protected boolean replayable() {
        return true;
    }

    // ---- filter chain

    /** True once the request has been answered (or failed). */
    public final boolean done() {
        return done;
    }

    /**
     * Runs the chain from the current filter until one stops or pauses the request, or all let it through. A new
     * request while the sidecar is overloaded is answered with the overload error instead.
     */
    protected final void runFilters() {
        if (filterIndex == 0 && !paused && shedForOverload()) {
            return;
        }
        StreamFilter[] filters = spec.filters();
        while (filterIndex < filters.length) {
            if (done) {
                return; // a filter answered the request itself
            }
            FilterStatus st;
            try {
                st = filters[filterIndex].onRequest(this);
            } catch (RuntimeException e) {
                log.error("filter {} failed on {}", filters[filterIndex].getClass().getSimpleName(), describe(), e);
                fail(ProxyError.BAD_REQUEST, "sidecar filter error: " + e);
                return;
            }
            if (st == FilterStatus.CONTINUE) {
                passed = ++filterIndex;
            } else if (st == FilterStatus.PAUSE) {
                paused = true;
                return;
            } else {
                if (!done) {
                    fail(ProxyError.BAD_REQUEST, "stopped by filter " + filters[filterIndex].getClass().getSimpleName());
                }
                return;
            }
        }
        afterFilters();
    }

    private boolean shedForOverload() {
        io.remora.core.limits.OverloadManager o = slot.overload();
        if (o == null || !o.overloaded()) {
            return false;
        }
        o.requestShed();
        shed = true;
        fail(ProxyError.OVERFLOW, "sidecar overloaded: " + o.describe());
        return true;
    }

    /** True if a filter ever paused this request (it may still be held by whoever resumes it). */
    protected final boolean everPaused() {
        return paused;
    }

    @Override
    public void resume() {
        if (done) {
            return;
        }
        passed = ++filterIndex;
        runFilters();
    }

    @Override
    public final Object filterState(StreamFilter filter) {
        if (filterStates == null) {
            return null;
        }
        StreamFilter[] filters = spec.filters();
        for (int i = 0; i < filters.length; i++) {
            if (filters[i] == filter) {
                return filterStates[i];
            }
        }
        return null;
    }

    @Override
    public final void setFilterState(StreamFilter filter, Object state) {
        StreamFilter[] filters = spec.filters();
        if (filterStates == null) {
            filterStates = new Object[filters.length];
        }
        for (int i = 0; i < filters.length; i++) {
            if (filters[i] == filter) {
                filterStates[i] = state;
                return;
            }
        }
    }

    // ---- routing

    /**
     * Matches the route and resolves its cluster and the hosts it may use (label routing narrows them). False after
     * failing the request when there is no route or no such cluster.
     */
    protected final boolean resolveRoute() {
        Route r = spec.routes().match(request(), destination());
        if (r == null) {
            String unreadable = request().unreadable();
            if (unreadable != null) {
                // A hostile or broken body: rate-limited, a caller can send as many as it likes.
                slot.limitLog().warn(spec.name() + ":unreadable_request", "listener {}: {} request from {} not "
                        + "routable: {}", spec.name(), request().protocol(), callerIp, unreadable);
            }
            fail(ProxyError.NO_ROUTE, "no route for " + describeForRoute() + " on listener " + spec.name());
            return false;
        }
        route = r;
        String clusterName = r.pickCluster();
        Cluster c = spec.snapshot().cluster(clusterName);
        if (c == null) {
            fail(ProxyError.NO_ROUTE, "cluster " + clusterName + forWhat() + " does not exist");
            return false;
        }
        cluster = c;
        HostSelector selector = c.isOriginalDst() ? null : spec.snapshot().hostSelector();
        HostSet set = selector == null ? null : selector.select(this, c);
        hostSet = set == null ? c.hostSet() : set;
        retry = r.retryPolicy();
        return true;
    }

    /** The request as a "no route" error names it (defaults to {@link #describe()}). */
    protected String describeForRoute() {
        return describe();
    }

    /**
     * Picks the host of a try, avoiding {@code avoid} when there is another choice; null after failing the request
     * when there is none.
     */
    protected final Host pickHost(long now, Host avoid) {
        Cluster c = cluster;
        if (c.isOriginalDst()) {
            Host h = OriginalDestination.host(c, slot, destination());
            if (h == null) {
                fail(ProxyError.NO_HEALTHY_UPSTREAM, "no original destination (connection made to the listener"
                        + " itself) for cluster " + c.name() + forWhat());
            }
            return h;
        }
        Host h = hostSet.choose(now, avoid);
        if (h == null) {
            fail(ProxyError.NO_HEALTHY_UPSTREAM, "no healthy upstream in cluster " + c.name() + forWhat()
                    + (hostSet != c.hostSet() ? " (no instance in the routed label group)" : ""));
        }
        return h;
    }

    /**
     * Sets the request's deadline from a timeout in ms (the request's own when positive, else the route's, else
     * {@link #DEFAULT_TIMEOUT_MILLIS}). False after failing the request when it has already passed.
     */
    protected final boolean setDeadline(long requestTimeoutNanos, long now) {
        long timeoutNanos = requestTimeoutNanos > 0 ? requestTimeoutNanos : TimeUnit.MILLISECONDS.toNanos(
                route.timeoutMillis() > 0 ? route.timeoutMillis() : DEFAULT_TIMEOUT_MILLIS);
        deadlineNanos = startNanos + timeoutNanos;
        if (deadlineNanos - now <= 0) {
            fail(ProxyError.TIMEOUT, "timeout of " + TimeUnit.NANOSECONDS.toMillis(timeoutNanos)
                    + " ms passed before forwarding");
            return false;
        }
        return true;
    }

    /** Starts a try on {@code h}: counts it active on the host and arms the try's timeout (unless oneway). */
    protected final void startTry(Host h, long now) {
        host = h;
        sentNanos = 0;
        answeredNanos = 0;
        tryDeadlineNanos = deadlineNanos;
        if (retry != null && retry.perTryTimeoutMillis() > 0) {
            long perTry = now + TimeUnit.MILLISECONDS.toNanos(retry.perTryTimeoutMillis());
            if (perTry - deadlineNanos < 0) {
                tryDeadlineNanos = perTry;
            }
        }
        if (!oneway()) {
            armTimeout(tryDeadlineNanos);
        }
        h.requestStarted();
        activeCounted = true;
    }

    /** The try was written upstream. */
    protected final void markSent() {
        sentNanos = System.nanoTime();
        cluster.metrics().requestSent();
    }

    /** True while the current try runs under a per-try timeout shorter than the request's. */
    protected final boolean perTryTimeout() {
        return tryDeadlineNanos != deadlineNanos;
    }

    /** Ends the current try's accounting on its host: active count, and its outcome for stats and fault isolation. */
    protected final void endTry(boolean ok) {
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

    /**
     * Retries after a failed try when the route's policy allows it, the request cannot have reached the provider (or
     * the route is idempotent), the stream can be replayed and the backoff fits in the deadline. Returns true if a
     * retry is scheduled (it runs {@link #retryNow} on the loop).
     */
    protected final boolean maybeRetry(int cause, boolean maySent, String reason) {
        RetryPolicy p = retry;
        if (p == null || done || host == null || retries >= p.numRetries() || !p.retries(cause, maySent)
                || !replayable()) {
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
        heldElsewhere = true; // the retry task below holds the stream
        Host previous = host;
        if (log.isDebugEnabled()) {
            log.debug("{} {}: retry {} of {} after {} ms: {}", spec.name(), describe(), retries, p.numRetries(),
                    backoff, reason);
        }
        Runnable again = () -> {
            if (!done) {
                retryNow(previous);
            }
        };
        if (backoff > 0) {
            channel.eventLoop().schedule(again, backoff, TimeUnit.MILLISECONDS);
        } else {
            channel.eventLoop().execute(again);
        }
        return true;
    }

    /**
     * Retries a try that failed with {@code error} when the policy allows it: connect failures and overflows never
     * reached the provider, a reset may have. True if a retry is scheduled.
     */
    protected final boolean retryFor(ProxyError error, String message) {
        if (done || host == null || retry == null) {
            return false;
        }
        return switch (error) {
            // Never reached the provider: safe to retry on any route.
            case UPSTREAM_CONNECT_FAILURE, OVERFLOW -> maybeRetry(RetryPolicy.CONNECT_FAILURE, false, message);
            case UPSTREAM_RESET -> maybeRetry(RetryPolicy.RESET, sentNanos != 0, message);
            default -> false;
        };
    }

    // ---- timeouts

    protected final void armTimeout(long deadline) {
        TimeoutWheel w = wheel;
        if (w == null) {
            w = LoopContext.current().timeouts(channel.eventLoop());
            wheel = w;
        }
        if (wheelSlot >= 0) {
            w.remove(this);
        }
        w.add(this, deadline);
    }

    protected final void cancelTimeout() {
        if (wheelSlot >= 0) {
            wheel.remove(this);
        }
    }

    @Override
    public final TimeoutWheel.Entry wheelPrev() {
        return wheelPrev;
    }

    @Override
    public final void wheelPrev(TimeoutWheel.Entry e) {
        wheelPrev = e;
    }

    @Override
    public final TimeoutWheel.Entry wheelNext() {
        return wheelNext;
    }

    @Override
    public final void wheelNext(TimeoutWheel.Entry e) {
        wheelNext = e;
    }

    @Override
    public final long wheelDeadline() {
        return wheelDeadline;
    }

    @Override
    public final int wheelSlot() {
        return wheelSlot;
    }

    @Override
    public final void wheelSet(int slot, long deadlineNanos) {
        wheelSlot = slot;
        wheelDeadline = deadlineNanos;
    }

    @Override
    public final void expired() {
        if (!done) {
            onTimeout();
        }
    }

    // ---- the end

    /**
     * Ends the request: listener metrics, the host's accounting of the last try, the digest line, every filter that
     * let it through, and the success log line. Idempotent (false if the request had already ended).
     */
    protected final boolean finish(ResponseClass result) {
        if (done) {
            return false;
        }
        done = true;
        cancelTimeout();
        long duration = System.nanoTime() - startNanos;
        String service = metricService();
        String method = metricMethod();
        slot.metrics().request(service, method, result, (int) Math.min(Integer.MAX_VALUE, requestBytes),
                (int) Math.min(Integer.MAX_VALUE, responseBytes), duration);
        endTry(!result.isError());
        DigestLog digest = slot.digest();
        boolean inbound = spec.direction() == Direction.INBOUND;
        DigestLog.Entry d = digest != null && digest.enabled(inbound) ? digest.claim(inbound) : null;
        if (d != null) {
            long upstreamNanos = answeredNanos != 0 ? answeredNanos - sentNanos : 0;
            RequestHeaders r = request();
            try { // published even if a getter throws: the writer waits for every claimed entry
                d.time(System.currentTimeMillis()).app(localApp()).traceId(r.traceId()).rpcId(r.rpcId())
                        .service(service).method(method).protocol(r.protocol()).callType(callType())
                        .target(host == null ? null : host.address(), r.targetApp()).result(result.digestCode())
                        .bytes(requestBytes, responseBytes)
                        .micros(duration / 1000, (duration - upstreamNanos) / 1000).callerIp(callerIp);
            } finally {
                digest.publish(d);
            }
        }
        IstioMetrics.Listener istio = slot.istio();
        if (istio != null) {
            try { // a metrics failure must not keep the request from ending (and its buffers from being released)
                RequestHeaders r = request();
                istio.request(istioProtocol(), service, inbound ? r.callerApp() : r.targetApp(), responseCode(result),
                        grpcStatus(), responseFlag(), requestBytes, responseBytes, duration);
            } catch (RuntimeException e) {
                log.error("istio metrics of {} failed: {}", describe(), e.toString());
            }
        }
        StreamFilter[] filters = spec.filters();
        for (int i = 0; i < passed; i++) {
            try {
                filters[i].onComplete(this, result, duration);
            } catch (RuntimeException e) {
                log.error("filter {} onComplete failed", filters[i].getClass().getSimpleName(), e);
            }
        }
        if (result == ResponseClass.OK && log.isInfoEnabled()) {
            log.info("{} {} {} from {} -> {} {}: {} in {} us", spec.name(), request().protocol(), logName(),
                    callerIp, cluster == null ? "-" : cluster.name(), host == null ? "-" : host.address(), result,
                    TimeUnit.NANOSECONDS.toMicros(duration));
        }
        return true;
    }

    /** The request is answered by the sidecar itself with {@code error}: recorded for metrics, and its log line. */
    protected final void logFailure(ProxyError error, String message) {
        answeredBy = error;
        if (log.isInfoEnabled()) {
            log.info("{} {} {} from {}: {} ({})", spec.name(), request().protocol(), logName(), callerIp, error,
                    message);
        }
    }

    /** The request as the per-request log lines name it (defaults to {@link #describe()}). */
    protected String logName() {
        return describe();
    }

    // ---- RequestContext

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
        return callerIp;
    }

    @Override
    public InetSocketAddress destination() {
        return OriginalDestination.of(channel);
    }

    @Override
    public String localApp() {
        return slot.localApp();
    }

    @Override
    public long startNanos() {
        return startNanos;
    }

    @Override
    public EventExecutor executor() {
        return channel.eventLoop();
    }
}
