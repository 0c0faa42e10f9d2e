package io.remora.filters.auth;

import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.RuleCounters;
import io.remora.filters.rules.RuleScope;

/** An access rule with its counters. */
public final class AccessState implements ActiveRule {

    private final AccessRule rule;
    private final RuleCounters counters = new RuleCounters();
    final String message;

    public AccessState(AccessRule rule) {
        this.rule = rule;
        this.message = "access denied by rule " + rule.scope().name();
    }

    public AccessRule rule() {
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
