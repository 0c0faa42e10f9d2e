package io.remora.filters.auth;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.RuleScope;

/**
 * Service-level access control. Intercept rules decide; observe rules are evaluated the same way on their own and
 * only count the calls they would have denied.
 */
final class AccessControlFilter implements StreamFilter {

    private final Governance governance;
    private final Direction direction;

    AccessControlFilter(Governance governance, Direction direction) {
        this.governance = governance;
        this.direction = direction;
    }

    @Override
    public FilterStatus onRequest(RequestContext ctx) {
        AccessState[] rules = governance.active().accessControl(direction).candidates(ctx.request().service());
        if (rules.length == 0) {
            return FilterStatus.CONTINUE;
        }
        AccessState denied = verdict(rules, ctx, false);
        AccessState wouldDeny = verdict(rules, ctx, true);
        if (wouldDeny != null) {
            wouldDeny.counters().observed.increment();
        }
        if (denied != null) {
            denied.counters().rejected.increment();
            ctx.respondError(ProxyError.UNAUTHORIZED, denied.message);
            return FilterStatus.STOP;
        }
        String method = ctx.request().method();
        for (AccessState a : rules) {
            if (methodMatches(a.scope(), method)) {
                a.counters().passed.increment();
            }
        }
        return FilterStatus.CONTINUE;
    }

    /** The rule that denies the call among the rules of one mode, or null if it is allowed. */
    private static AccessState verdict(AccessState[] rules, RequestContext ctx, boolean observe) {
        String method = ctx.request().method();
        AccessState firstWhitelist = null;
        boolean whitelisted = false;
        for (AccessState a : rules) {
            RuleScope s = a.scope();
            if (s.observe() != observe || !methodMatches(s, method)) {
                continue;
            }
            if (a.rule().whitelist()) {
                if (firstWhitelist == null) {
                    firstWhitelist = a;
                }
                if (!whitelisted && s.conditions().matches(ctx)) {
                    whitelisted = true;
                }
            } else if (s.conditions().matches(ctx)) {
                return a;
            }
        }
        return firstWhitelist != null && !whitelisted ? firstWhitelist : null;
    }

    private static boolean methodMatches(RuleScope s, String method) {
        return RuleScope.ANY.equals(s.method()) || s.method().equals(method);
    }
}
