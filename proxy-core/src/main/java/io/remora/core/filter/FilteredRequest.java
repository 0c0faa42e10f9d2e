package io.remora.core.filter;

import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The filter-chain half of a proxied request, shared by every protocol engine (RPC streams, HTTP exchanges): where the
 * request is in its chain, the filters that let it through (they get {@link StreamFilter#onComplete}), and each
 * filter's per-request state. A base class rather than a helper object, so a request stays one allocation.
 */
public abstract class FilteredRequest implements RequestContext {

    private static final Logger log = LoggerFactory.getLogger("io.remora.proxy");

    private int filterIndex;
    /** Filters [0, passed) let the request through. */
    private int passed;
    private Object[] filterStates;
    /** A filter paused the request: someone else (a timer, another thread) holds it and may come back to it. */
    private boolean paused;

    /** The chain this request runs: the listener spec's, fixed for the request's life. */
    protected abstract StreamFilter[] filters();

    /** True once the request has been answered (or failed). */
    protected abstract boolean done();

    /** Answers with the protocol's native error and ends the request. */
    protected abstract void fail(ProxyError error, String message);

    /** Every filter let the request through: go on (route and forward). */
    protected abstract void afterFilters();

    /** The request as a log line names it (only built when a filter fails). */
    protected abstract String describe();

    /** Runs the chain from the current filter until one stops or pauses the request, or all let it through. */
    protected final void runFilters() {
        StreamFilter[] filters = filters();
        while (filterIndex < filters.length) {
            if (done()) {
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
                if (!done()) {
                    fail(ProxyError.BAD_REQUEST, "stopped by filter " + filters[filterIndex].getClass().getSimpleName());
                }
                return;
            }
        }
        afterFilters();
    }

    /** True if a filter ever paused this request (it may still be held by whoever resumes it). */
    protected final boolean everPaused() {
        return paused;
    }

    /** Clears the chain state so the object can carry another request (engines that reuse request objects). */
    protected final void resetFilterChain() {
        filterIndex = 0;
        passed = 0;
        filterStates = null;
        paused = false;
    }

    @Override
    public void resume() {
        if (done()) {
            return;
        }
        passed = ++filterIndex;
        runFilters();
    }

    /** Tells every filter that let the request through how it ended. */
    protected final void completeFilters(ResponseClass result, long durationNanos) {
        StreamFilter[] filters = filters();
        for (int i = 0; i < passed; i++) {
            try {
                filters[i].onComplete(this, result, durationNanos);
            } catch (RuntimeException e) {
                log.error("filter {} onComplete failed", filters[i].getClass().getSimpleName(), e);
            }
        }
    }

    @Override
    public final Object filterState(StreamFilter filter) {
        if (filterStates == null) {
            return null;
        }
        StreamFilter[] filters = filters();
        for (int i = 0; i < filters.length; i++) {
            if (filters[i] == filter) {
                return filterStates[i];
            }
        }
        return null;
    }

    @Override
    public final void setFilterState(StreamFilter filter, Object state) {
        StreamFilter[] filters = filters();
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
}
