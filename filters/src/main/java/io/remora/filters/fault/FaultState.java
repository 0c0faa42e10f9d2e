package io.remora.filters.fault;

import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleScope;

/** A fault rule with its counters. */
public final class FaultState implements ActiveRule {

    private final FaultRule rule;
    private final RuleCounters counters = new RuleCounters();
    final String message;

    public FaultState(FaultRule rule) {
        this.rule = rule;
        this.message = "fault injected by rule " + rule.scope().name();
    }

    public FaultRule rule() {
        return rule;
    }

    @Override
    public RuleScope scope() {
        return rule.scope();
    }

    @Override
    public RuleCounters counters() {
        return counters;
    }
}
