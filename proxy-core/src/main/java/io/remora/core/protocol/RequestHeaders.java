package io.remora.core.protocol;

import java.util.function.BiConsumer;

/**
 * The routing view of a request: what the router and the governance filters may look at. Codecs implement it on their
 * frames and parse lazily: nothing is decoded until asked, and the body is never deserialized.
 */
public interface RequestHeaders {

    /** Protocol name, as {@link Protocol#name()}. */
    String protocol();

    /**
     * The service this request is for, in the protocol's own terms: Bolt's {@code service} header
     * ({@code interface:version[:uniqueId]}), Dubbo's interface (service path). Null if the frame carries none.
     */
    String service();

    /** The method name, or null. */
    String method();

    /**
     * A request header by name: a Bolt header, a Dubbo attachment (also {@code version} and {@code group}), an HTTP
     * header (case-insensitive). Null if absent. May trigger a lazy parse the first time.
     */
    String header(String name);

    /** Visits every header once (parsing them if needed). */
    void forEachHeader(BiConsumer<String, String> visitor);

    /** The calling application's name as the protocol carries it (documented per protocol), or null. */
    default String callerApp() {
        return null;
    }

    /** The target (provider) application's name if the request names it, or null. */
    default String targetApp() {
        return null;
    }

    /** The request path without the query string (HTTP), or null for protocols without one. */
    default String path() {
        return null;
    }

    /** The trace id carried by the request (e.g. SOFA tracer's {@code sofaTraceId}), or null. */
    default String traceId() {
        return null;
    }

    /** The span / rpc id carried by the request (e.g. {@code 0.1}), or null. */
    default String rpcId() {
        return null;
    }

    /**
     * Why part of the request could not be read (a malformed body: routing saw fewer fields than were sent), or null.
     * Asked only after routing, when no route matched.
     */
    default String unreadable() {
        return null;
    }
}
