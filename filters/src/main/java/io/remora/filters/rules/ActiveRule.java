package io.remora.filters.rules;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;

/**
 * A rule bound to its run-time state: counters, and whatever its kind keeps (token bucket, breakers) in a subclass.
 * One instance per rule identity, kept across rule set replacements; shared by all event loops, so subclass state is
 * lock-free.
 */
public class ActiveRule<R extends RuleConfig> {

    private final RuleKind<R, ?> kind;
    private final R rule;
    private final RuleCounters counters = new RuleCounters();
    private final String message;
    private final Permit pass = new Permit(this, false);
    private final Permit refuse = new Permit(this, true);
    /** Set while a smaller rule for the same traffic is enforced instead ({@link Policy#smallestWins}). */
    private volatile String shadowedBy;

    public ActiveRule(RuleKind<R, ?> kind, R rule) {
        this.kind = kind;
        this.rule = rule;
        this.message = kind.refusal() + " by rule " + rule.scope().name();
    }

    public final RuleKind<R, ?> kind() {
        return kind;
    }

    public final R rule() {
        return rule;
    }

    public final RuleScope scope() {
        return rule.scope();
    }

    public final RuleCounters counters() {
        return counters;
    }

    /** The text of a refusal, e.g. {@code rate limited by rule hello-qps}. */
    public final String message() {
        return message;
    }

    /** The decision "let it through", holding nothing. */
    public final Permit pass() {
        return pass;
    }

    /** The decision "refuse", holding nothing. */
    public final Permit refuse() {
        return refuse;
    }

    public final String shadowedBy() {
        return shadowedBy;
    }

    final void shadowedBy(String name) {
        this.shadowedBy = name;
    }

    /** Kind-specific fields for the stats endpoint (admin thread), e.g. breaker states; may add nothing. */
    public void describeState(ObjectNode out) {
    }

    /** Writes this rule's line of the kind's per-second log, if it has one to write (governance log thread). */
    public final void report(RuleCounters.Counts delta, Logger log) {
        kind.reportUnchecked(this, delta, log);
    }
}
