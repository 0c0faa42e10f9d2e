package io.remora.filters.rules;

import io.remora.core.filter.Direction;
import io.remora.filters.condition.ConditionSet;

/**
 * What every rule kind shares: who it is, where it applies, how it runs and which traffic it matches.
 *
 * @param identity the rule's kind and full content; run-time state (buckets, windows, counters) is kept per identity,
 *                 so an unchanged rule keeps its state when the rule set is replaced
 * @param matchKey direction, service, method, mode and conditions: rules with equal keys target the same traffic
 */
public record RuleScope(String kind, String name, String app, Direction direction, String service, String method,
                        boolean observe, boolean enabled, ConditionSet conditions, String identity, String matchKey) {

    public static final String ANY = "*";

    /** True when the rule is on and meant for {@code localApp}'s sidecar. */
    boolean appliesTo(String localApp) {
        return enabled && (ANY.equals(app) || app.equals(localApp));
    }

    /** {@code service#method}, as the per-second logs name a rule's traffic. */
    public String resource() {
        return service + "#" + method;
    }

    public String mode() {
        return observe ? "observe" : "intercept";
    }
}
