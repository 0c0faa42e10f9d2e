package io.remora.filters.circuitbreaker;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.RequestContext;
import io.remora.core.protocol.ProxyError;
import io.remora.core.protocol.ResponseClass;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.Permit;
import io.remora.filters.rules.Policy;
import io.remora.filters.rules.RuleKind;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;
import java.util.List;

/**
 * {@code circuit_breaker}: fails calls fast while a matching breaker is open, and feeds every admitted call's outcome
 * back to its breakers. An error is {@link ResponseClass#isError()}: whatever the codec classified as not OK (Bolt: an
 * error status or a {@code sofa_head_response_error} response; Dubbo: a non-OK status or an exception result) plus
 * timeouts, connect failures, resets and routing failures.
 */
public final class CircuitBreakerKind extends RuleKind<CircuitBreakerRule, BreakerGroup> {

    public CircuitBreakerKind() {
        super(CircuitBreakerRule.KIND, Policy.everyMatch(), ProxyError.CIRCUIT_OPEN, "circuit open");
    }

    @Override
    protected CircuitBreakerRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        boolean avgRt = r.choice("type", true, "error_ratio", "avg_rt").equals("avg_rt");
        int window = (int) r.integer("window_s", 10L, 1, 3600);
        long min = r.integer("min_requests", 10L, 1, 1_000_000_000L);
        double ratio = 1;
        long rt = 0;
        if (avgRt) {
            if (r.has("error_ratio_threshold")) {
                throw r.error("error_ratio_threshold", "applies to type error_ratio only");
            }
            rt = r.integer("rt_threshold_ms", null, 1, 3_600_000);
        } else {
            if (r.has("rt_threshold_ms")) {
                throw r.error("rt_threshold_ms", "applies to type avg_rt only");
            }
            ratio = r.number("error_ratio_threshold", null, 0, true, 1);
        }
        long open = r.integer("open_duration_ms", 5000L, 1, 86_400_000);
        return new CircuitBreakerRule(scope, avgRt, window, min, ratio, rt, open);
    }

    @Override
    protected BreakerGroup activate(CircuitBreakerRule rule, Governance governance) {
        return new BreakerGroup(this, rule, governance.ticker());
    }

    @Override
    protected Permit decide(BreakerGroup rule, RequestContext ctx, Governance governance) {
        return rule.breakerFor(ctx.request().service(), ctx.request().method()).tryAcquire();
    }

    @Override
    protected void meters(BreakerGroup rule, MeterRegistry registry, List<Meter> out) {
        out.add(Gauge.builder("remora.governance.breakers.open", rule, BreakerGroup::openCount)
                .description("circuit breakers of the rule that are open or half-open")
                .tags("rule", rule.scope().name()).register(registry));
    }
}
