package io.remora.filters.fault;

import io.remora.core.filter.Direction;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.Governance;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * Injects faults: the first rule (config order) matching the call decides; it fires for its percentage of calls,
 * sampled with the governance random source. A delay pauses the call on its own event loop and resumes it later.
 */
final class FaultInjectFilter implements StreamFilter {

    private final Governance governance;
    private final Direction direction;

    FaultInjectFilter(Governance governance, Direction direction) {
        this.governance = governance;
        this.direction = direction;
    }

    @Override
    public FilterStatus onRequest(RequestContext ctx) {
        FaultState[] rules = governance.active().faultInject(direction).candidates(ctx.request().service());
        for (FaultState f : rules) {
            if (!f.scope().matches(ctx)) {
                continue;
            }
            FaultRule rule = f.rule();
            if (!sampled(rule.percentage(), governance.random())) {
                f.counters().passed.increment();
                return FilterStatus.CONTINUE;
            }
            if (f.scope().observe()) {
                f.counters().observed.increment();
                f.counters().passed.increment();
                return FilterStatus.CONTINUE;
            }
            f.counters().injected.increment();
            if (rule.abort()) {
                if (rule.abortStatus() >= 0) {
                    ctx.respondError(ProxyError.FAULT_INJECTED, f.message, rule.abortStatus());
                } else {
                    ctx.respondError(ProxyError.FAULT_INJECTED, f.message);
                }
                return FilterStatus.STOP;
            }
            ctx.executor().schedule(ctx::resume, rule.delayMs(), TimeUnit.MILLISECONDS);
            return FilterStatus.PAUSE;
        }
        return FilterStatus.CONTINUE;
    }

    /** True for {@code percentage}% of draws; 100 always, 0 never. */
    static boolean sampled(double percentage, DoubleSupplier random) {
        return percentage >= 100 || (percentage > 0 && random.getAsDouble() * 100.0 < percentage);
    }
}
