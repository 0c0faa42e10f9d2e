package io.remora.filters.rules;

/**
 * One rule as configured, after validation: an immutable record of its kind's fields plus the {@link RuleScope} every
 * rule has. Built by {@link RuleKind#parse} on the config thread.
 */
public interface RuleConfig {

    RuleScope scope();
}
