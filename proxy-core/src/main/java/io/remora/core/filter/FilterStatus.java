package io.remora.core.filter;

/** What a filter decided for a request. */
public enum FilterStatus {
    /** Go on to the next filter, then the router. */
    CONTINUE,
    /** The filter answered the request itself ({@link RequestContext#respondError}); nothing further runs. */
    STOP,
    /** The filter will call {@link RequestContext#resume()} later, on the request's event loop (e.g. injected delay). */
    PAUSE
}
