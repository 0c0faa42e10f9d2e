package io.remora.filters.ratelimit;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.RequestContext;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.Permit;
import io.remora.filters.rules.Policy;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleKind;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;
import java.util.List;
import org.slf4j.Logger;

/**
 * {@code rate_limit}: every matching rule applies (among rules for the same traffic and type, only the smallest limit);
 * a call refused by one gives back what the others took. {@code flow-control.log} has one line per rule per second
 * with traffic.
 */
public final class RateLimitKind extends RuleKind<RateLimitRule, RateLimiter> {

    static final long MAX_THRESHOLD = 1_000_000_000L;

    public RateLimitKind() {
        super(RateLimitRule.KIND, Policy.smallestWins(r -> r.rule().groupKey(), r -> r.rule().limit()),
                ProxyError.RATE_LIMITED, "rate limited");
    }

    @Override
    protected RateLimitRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        boolean concurrency = r.choice("type", true, "qps", "concurrency").equals("concurrency");
        long threshold = r.integer("threshold", null, 1, MAX_THRESHOLD);
        long unit = 1000;
        double coefficient = 1.0;
        if (concurrency) {
            for (String f : new String[] {"unit_ms", "bucket_coefficient"}) {
                if (r.has(f)) {
                    throw r.error(f, "applies to type qps only");
                }
            }
        } else {
            unit = r.integer("unit_ms", 1000L, 1, 3_600_000);
            coefficient = r.number("bucket_coefficient", 1.0, 0, true, 1000);
        }
        return new RateLimitRule(scope, concurrency, threshold, unit, coefficient);
    }

    @Override
    protected RateLimiter activate(RateLimitRule rule, Governance governance) {
        return new RateLimiter(this, rule, governance.ticker());
    }

    @Override
    protected Permit decide(RateLimiter rule, RequestContext ctx, Governance governance) {
        return rule.tryPass();
    }

    @Override
    protected void meters(RateLimiter rule, MeterRegistry registry, List<Meter> out) {
        out.add(Gauge.builder("remora.governance.concurrency", rule, RateLimiter::concurrency)
                .description("calls in flight admitted by the rate limit rule")
                .tags("rule", rule.scope().name()).register(registry));
    }

    @Override
    public String logFile() {
        return "flow-control.log";
    }

    @Override
    protected void report(RateLimiter rule, RuleCounters.Counts d, Logger log) {
        if (!d.any() && rule.concurrency() == 0) {
            return;
        }
        double rtMs = d.completed() == 0 ? 0 : d.rtNanos() / 1e6 / d.completed();
        log.info("rule={} resource={} mode={} pass={} block={} observed_block={} complete={} exception={} "
                        + "rt={}ms concurrency={}", rule.scope().name(), rule.scope().resource(), rule.scope().mode(),
                d.passed(), d.rejected(), d.observed(), d.completed(), d.exceptions(), String.format("%.2f", rtMs),
                rule.concurrency());
    }
}
