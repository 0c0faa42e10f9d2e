package io.remora.core.filter;

import io.remora.core.protocol.ResponseClass;

/**
 * One governance concern applied to every request on a listener. Instances are built once per config snapshot by a
 * {@link StreamFilterFactory} and shared by all event loops, so any state they keep must be thread-safe and lock-free.
 * Both methods run on the request's event loop and must never block.
 */
public interface StreamFilter {

    /** Called once per request, in chain order. */
    FilterStatus onRequest(RequestContext ctx);

    /**
     * Called once when a request this filter let through (CONTINUE, or PAUSE then resumed) has finished: answered by
     * the provider, failed, timed out, or (oneway) sent. Not called for requests the filter itself stopped.
     *
     * @param result how it ended
     * @param durationNanos from the start of the request to its end
     */
    default void onComplete(RequestContext ctx, ResponseClass result, long durationNanos) {
    }
}
