package io.remora.filters.rules;

import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.RequestHeaders;
import io.remora.core.protocol.ResponseClass;

/**
 * The filter of every rule kind, one per listener and kind. Per call: one volatile read of the published rules, an
 * O(1) lookup of the rules covering the call's service (then method, only if there are any) for this kind and the
 * listener's direction, then the kind's {@link Policy} decides with the kind's {@link RuleKind#decide}. The permit(s)
 * that hold something for the call are kept as the filter's per-request state and told how the call ended. Shared by
 * all event loops; both methods run on the request's event loop.
 */
final class GovernanceFilter<R extends RuleConfig, S extends ActiveRule<R>> implements StreamFilter {

    private final RuleKind<R, S> kind;
    private final Governance governance;
    private final int slot;

    GovernanceFilter(RuleKind<R, S> kind, Governance governance, int slot) {
        this.kind = kind;
        this.governance = governance;
        this.slot = slot;
    }

    @Override
    @SuppressWarnings("unchecked")
    public FilterStatus onRequest(RequestContext ctx) {
        RequestHeaders req = ctx.request();
        RuleIndex.Methods byMethod = governance.active().forService(slot, req.service());
        if (byMethod == null) {
            return FilterStatus.CONTINUE;
        }
        // Every rule in this slot was built by this kind's activate.
        S[] rules = (S[]) byMethod.candidates(req.method());
        return rules.length == 0 ? FilterStatus.CONTINUE : kind.policy().apply(this, rules, ctx);
    }

    @Override
    public void onComplete(RequestContext ctx, ResponseClass result, long durationNanos) {
        Object s = ctx.filterState(this);
        if (s instanceof Permit p) {
            p.complete(result, durationNanos);
        } else if (s instanceof Permit[] ps) {
            for (Permit p : ps) {
                if (p == null) {
                    break;
                }
                p.complete(result, durationNanos);
            }
        }
    }

    Permit decide(S rule, RequestContext ctx) {
        return kind.decide(rule, ctx, governance);
    }

    /** An intercept rule refused the call: count it and answer the call. */
    FilterStatus refuse(S rule, RequestContext ctx) {
        (kind.injects() ? rule.counters().injected : rule.counters().rejected).increment();
        return kind.enforce(rule, ctx);
    }
}
