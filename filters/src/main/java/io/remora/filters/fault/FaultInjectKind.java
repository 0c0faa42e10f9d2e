package io.remora.filters.fault;

import io.remora.core.config.ConfigException;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.Permit;
import io.remora.filters.rules.Policy;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleKind;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import org.slf4j.Logger;

/**
 * {@code fault_inject}: the first rule (config order) matching the call decides; it fires for its percentage of calls,
 * sampled with the governance random source. An abort answers at once; a delay pauses the call on its own event loop
 * and resumes it later. {@code fault_inject.log} has one line per rule per second with injections.
 */
public final class FaultInjectKind extends RuleKind<FaultRule, ActiveRule<FaultRule>> {

    public FaultInjectKind() {
        super(FaultRule.KIND, Policy.firstMatch(), ProxyError.FAULT_INJECTED, "fault injected");
    }

    @Override
    protected FaultRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        boolean abort = r.choice("type", true, "abort", "delay").equals("abort");
        double pct = r.number("percentage", 100.0, 0, false, 100);
        int status = -1;
        long delay = 0;
        if (abort) {
            if (r.has("delay_ms")) {
                throw r.error("delay_ms", "applies to type delay only");
            }
            status = (int) r.integer("abort_status", -1L, 0, 65535);
            if (status == -1 && r.has("abort_status")) {
                throw r.error("abort_status", "must be >= 0");
            }
        } else {
            if (r.has("abort_status")) {
                throw r.error("abort_status", "applies to type abort only");
            }
            delay = r.integer("delay_ms", null, 1, 600_000);
        }
        return new FaultRule(scope, abort, pct, status, delay);
    }

    @Override
    protected Permit decide(ActiveRule<FaultRule> rule, RequestContext ctx, Governance governance) {
        return sampled(rule.rule().percentage(), governance.random()) ? rule.refuse() : rule.pass();
    }

    @Override
    protected FilterStatus enforce(ActiveRule<FaultRule> rule, RequestContext ctx) {
        FaultRule f = rule.rule();
        if (!f.abort()) {
            ctx.executor().schedule(ctx::resume, f.delayMs(), TimeUnit.MILLISECONDS);
            return FilterStatus.PAUSE;
        }
        if (f.abortStatus() < 0) {
            return super.enforce(rule, ctx);
        }
        ctx.respondError(ProxyError.FAULT_INJECTED, rule.message(), f.abortStatus());
        return FilterStatus.STOP;
    }

    @Override
    protected boolean injects() {
        return true;
    }

    @Override
    public String logFile() {
        return "fault_inject.log";
    }

    @Override
    protected void report(ActiveRule<FaultRule> rule, RuleCounters.Counts d, Logger log) {
        if (d.injected() != 0 || d.observed() != 0) {
            log.info("rule={} resource={} type={} mode={} injected={} observed={} passed={}", rule.scope().name(),
                    rule.scope().resource(), rule.rule().abort() ? "abort" : "delay", rule.scope().mode(),
                    d.injected(), d.observed(), d.passed());
        }
    }

    /** True for {@code percentage}% of draws; 100 always, 0 never. */
    static boolean sampled(double percentage, DoubleSupplier random) {
        return percentage >= 100 || (percentage > 0 && random.getAsDouble() * 100.0 < percentage);
    }
}
