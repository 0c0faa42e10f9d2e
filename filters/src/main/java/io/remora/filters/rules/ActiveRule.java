package io.remora.filters.rules;

/** A rule bound to its run-time state; one instance per rule identity, kept across rule set replacements. */
public interface ActiveRule {

    RuleScope scope();

    RuleCounters counters();

    /** Kind-specific fields for the stats endpoint (e.g. breaker states); may be empty. */
    default void describeState(com.fasterxml.jackson.databind.node.ObjectNode out) {
    }
}
