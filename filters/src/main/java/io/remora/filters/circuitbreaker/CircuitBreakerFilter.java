package io.remora.filters.circuitbreaker;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.Governance;

/**
 * Fails calls fast while a matching breaker is open, and feeds every admitted call's outcome back to its breakers.
 * An error is {@link ResponseClass#isError()}: whatever the codec classified as not OK (Bolt: an error status or a
 * {@code sofa_head_response_error} response; Dubbo: a non-OK status or an exception result) plus timeouts, connect
 * failures, resets and routing failures. Per-request state: the permit(s) granted.
 */
final class CircuitBreakerFilter implements StreamFilter {

    private final Governance governance;
    private final Direction direction;

    CircuitBreakerFilter(Governance governance, Direction direction) {
        this.governance = governance;
        this.direction = direction;
    }

    @Override
    public FilterStatus onRequest(RequestContext ctx) {
        String service = ctx.request().service();
        BreakerGroup[] rules = governance.active().circuitBreaker(direction).candidates(service);
        if (rules.length == 0) {
            return FilterStatus.CONTINUE;
        }
        CircuitBreaker.Permit first = null;
        CircuitBreaker.Permit[] more = null;
        int n = 0;
        for (BreakerGroup g : rules) {
            if (!g.scope().matches(ctx)) {
                continue;
            }
            CircuitBreaker b = g.breakerFor(service, ctx.request().method());
            CircuitBreaker.Decision d = b.tryAcquire();
            if (d == CircuitBreaker.Decision.REJECT) {
                if (!g.scope().observe()) {
                    abandon(first, more, n);
                    g.counters().rejected.increment();
                    ctx.respondError(ProxyError.CIRCUIT_OPEN, g.rejectMessage);
                    return FilterStatus.STOP;
                }
                g.counters().observed.increment();
                g.counters().passed.increment();
                continue;
            }
            g.counters().passed.increment();
            CircuitBreaker.Permit p = d == CircuitBreaker.Decision.TRIAL ? b.trial : b.normal;
            if (first == null) {
                first = p;
                n = 1;
            } else {
                if (more == null) {
                    more = new CircuitBreaker.Permit[rules.length];
                    more[0] = first;
                }
                more[n++] = p;
            }
        }
        if (first != null) {
            ctx.setFilterState(this, more != null ? more : first);
        }
        return FilterStatus.CONTINUE;
    }

    private static void abandon(CircuitBreaker.Permit first, CircuitBreaker.Permit[] more, int n) {
        if (more == null) {
            if (first != null && first.trial()) {
                first.breaker().abandonTrial();
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            if (more[i].trial()) {
                more[i].breaker().abandonTrial();
            }
        }
    }

    @Override
    public void onComplete(RequestContext ctx, ResponseClass result, long durationNanos) {
        Object s = ctx.filterState(this);
        boolean error = result.isError();
        if (s instanceof CircuitBreaker.Permit p) {
            p.breaker().onComplete(p.trial(), error, durationNanos);
        } else if (s instanceof CircuitBreaker.Permit[] ps) {
            for (CircuitBreaker.Permit p : ps) {
                if (p == null) {
                    break;
                }
                p.breaker().onComplete(p.trial(), error, durationNanos);
            }
        }
    }
}
