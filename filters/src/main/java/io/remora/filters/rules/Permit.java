package io.remora.filters.rules;

import io.remora.core.protocol.ResponseClass;

/**
 * One rule's decision on one call ({@link RuleKind#decide}): let it through or refuse it, and what the rule holds for
 * the call until it ends (a concurrency slot, a breaker trial). Permits are preallocated per rule ({@link
 * ActiveRule#pass()}, {@link ActiveRule#refuse()}) or per breaker, so deciding a call allocates nothing. A refused
 * permit of an observe rule lets the call go on, counted as observed, and still holds what it took.
 * {@link #complete} and {@link #release} run on the request's event loop and must not block.
 */
public class Permit {

    final ActiveRule<?> rule;
    final boolean refused;

    protected Permit(ActiveRule<?> rule, boolean refused) {
        this.rule = rule;
        this.refused = refused;
    }

    /** True for a kind's own permits: the rule holds something, so the filter reports how the call ended. */
    final boolean holds() {
        return this != rule.pass() && this != rule.refuse();
    }

    /** The call this permit let through has ended. */
    protected void complete(ResponseClass result, long durationNanos) {
    }

    /** The call will not go ahead after all (a later rule refused it): give back what was taken. */
    protected void release() {
    }
}
