package io.remora.filters.ratelimit;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.Governance;

/**
 * Applies every matching rate limit rule of the listener's direction; any intercept rule that refuses answers the call
 * with the protocol's native error naming the rule. Per-request state is the admitted rule (or rules) to release.
 */
final class RateLimitFilter implements StreamFilter {

    private final Governance governance;
    private final Direction direction;

    RateLimitFilter(Governance governance, Direction direction) {
        this.governance = governance;
        this.direction = direction;
    }

    @Override
    public FilterStatus onRequest(RequestContext ctx) {
        RateLimiter[] rules = governance.active().rateLimit(direction).candidates(ctx.request().service());
        if (rules.length == 0) {
            return FilterStatus.CONTINUE;
        }
        RateLimiter first = null;
        RateLimiter[] more = null;
        int n = 0;
        for (RateLimiter r : rules) {
            if (!r.scope().matches(ctx)) {
                continue;
            }
            if (!r.tryPass()) {
                if (first != null) {
                    first.cancel();
                }
                for (int i = 1; i < n; i++) {
                    more[i].cancel();
                }
                r.counters().rejected.increment();
                ctx.respondError(ProxyError.RATE_LIMITED, r.rejectMessage);
                return FilterStatus.STOP;
            }
            if (first == null) {
                first = r;
                n = 1;
            } else {
                if (more == null) {
                    more = new RateLimiter[rules.length];
                    more[0] = first;
                }
                more[n++] = r;
            }
        }
        if (first == null) {
            return FilterStatus.CONTINUE;
        }
        if (more == null) {
            first.counters().passed.increment();
            ctx.setFilterState(this, first);
        } else {
            for (int i = 0; i < n; i++) {
                more[i].counters().passed.increment();
            }
            ctx.setFilterState(this, more);
        }
        return FilterStatus.CONTINUE;
    }

    @Override
    public void onComplete(RequestContext ctx, ResponseClass result, long durationNanos) {
        Object s = ctx.filterState(this);
        if (s instanceof RateLimiter r) {
            r.complete(result, durationNanos);
        } else if (s instanceof RateLimiter[] rs) {
            for (RateLimiter r : rs) {
                if (r == null) {
                    break;
                }
                r.complete(result, durationNanos);
            }
        }
    }
}
