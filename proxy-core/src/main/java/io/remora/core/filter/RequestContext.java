package io.remora.core.filter;

import io.netty.util.concurrent.EventExecutor;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.RequestHeaders;

/**
 * One request as the filters see it. Valid on the request's event loop only, until the request completes.
 */
public interface RequestContext {

    /** The request's routing view: service, method, headers. */
    RequestHeaders request();

    String listenerName();

    Direction direction();

    /** The caller's IP as text (the downstream connection's remote address), e.g. {@code "127.0.0.1"}. */
    String callerIp();

    /**
     * The address the downstream connection was made to: the original destination on a transparent (TPROXY)
     * listener, the listener's own address otherwise. Null if unknown.
     */
    default java.net.InetSocketAddress destination() {
        return null;
    }

    /** The caller's app name as the protocol carries it (see {@link RequestHeaders#callerApp()}), or null. */
    default String callerApp() {
        return request().callerApp();
    }

    /** The local app this sidecar serves (config {@code node.app}), or null. */
    String localApp();

    /** True for oneway requests (no response will be sent). */
    boolean oneway();

    /** {@link System#nanoTime()} when the request was decoded. */
    long startNanos();

    /**
     * Answers the request with the protocol's native error and ends it. A filter that calls this returns
     * {@link FilterStatus#STOP}. For oneway requests nothing is written.
     */
    void respondError(ProxyError error, String message);

    /** As {@link #respondError(ProxyError, String)} with an explicit protocol status (fault injection abort). */
    void respondError(ProxyError error, String message, int nativeStatus);

    /** Continues a request paused with {@link FilterStatus#PAUSE}. Must be called on {@link #executor()}. */
    void resume();

    /** The request's event loop, for scheduling (e.g. an injected delay). */
    EventExecutor executor();

    /** Per-request state a filter keeps for its own {@link StreamFilter#onComplete} (keyed by the filter instance). */
    Object filterState(StreamFilter filter);

    void setFilterState(StreamFilter filter, Object state);
}
