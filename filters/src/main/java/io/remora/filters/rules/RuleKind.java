package io.remora.filters.rules;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.remora.core.config.ConfigException;
import io.remora.core.filter.FilterContext;
import io.remora.core.filter.FilterStatus;
import io.remora.core.filter.RequestContext;
import io.remora.core.filter.StreamFilter;
import io.remora.core.filter.StreamFilterFactory;
import io.remora.core.protocol.ProxyError;
import java.util.List;
import org.slf4j.Logger;

/**
 * One kind of governance rule (rate limit, circuit breaker, ...): everything the framework needs to parse, index,
 * enforce, count and report its rules. A kind is a stateless descriptor found with {@link java.util.ServiceLoader}
 * twice: as a {@link StreamFilterFactory} (listed in {@code META-INF/services/io.remora.core.filter.StreamFilterFactory},
 * so listeners can name it as a filter type) and as a rule kind (listed in
 * {@code META-INF/services/io.remora.filters.rules.RuleKind}, in the order of the rule document). Its rules live in
 * {@code extensions.governance.<name>}.
 *
 * <p>Who calls what: {@link #parse} runs on the thread that validates a config (start, admin, xDS); {@link #activate}
 * and {@link #meters} on the publishing thread, once per new rule identity; {@link #decide} and {@link #enforce} on the
 * request's event loop, concurrently from every loop, so they must not block, lock or allocate; {@link #report} on the
 * governance log thread once a second. Conditions, service and method are matched by the framework: {@code decide} only
 * sees calls its rule covers.
 *
 * @param <R> the kind's config record
 * @param <S> the run-time state of one rule ({@link ActiveRule} itself when counters are all it keeps)
 */
public abstract class RuleKind<R extends RuleConfig, S extends ActiveRule<R>> implements StreamFilterFactory {

    private final String name;
    private final Policy<S> policy;
    private final ProxyError error;
    private final String refusal;

    /**
     * @param name    the kind's key in {@code extensions.governance} and its filter type, e.g. {@code rate_limit}
     * @param policy  how the rules covering one call decide it together
     * @param error   the protocol-native error of a refused call
     * @param refusal what a refusal says before {@code " by rule <name>"}, e.g. {@code rate limited}
     */
    protected RuleKind(String name, Policy<S> policy, ProxyError error, String refusal) {
        this.name = name;
        this.policy = policy;
        this.error = error;
        this.refusal = refusal;
    }

    public final String name() {
        return name;
    }

    final String refusal() {
        return refusal;
    }

    @Override
    public final String type() {
        return name;
    }

    /** The filter applying this kind's rules of the listener's direction; governance filters take no config. */
    @Override
    public final StreamFilter create(JsonNode config, FilterContext context) throws ConfigException {
        if (config != null && !config.isNull() && !config.isMissingNode()) {
            if (!config.isObject()) {
                throw new ConfigException("", "must be an object (the rules live in " + RuleParser.BASE_PATH + ")");
            }
            if (config.size() > 0) {
                throw new ConfigException(config.fieldNames().next(), "unknown field (the rules live in "
                        + RuleParser.BASE_PATH + ")");
            }
        }
        return Governance.of(context.sidecar()).filter(name, context.direction());
    }

    /** Reads the kind's own fields of one rule (the common ones are in {@code scope}); {@code r} reports the rest. */
    protected abstract R parse(RuleReader r, RuleScope scope) throws ConfigException;

    /** The run-time state of a newly published rule. Kinds whose state is more than counters override this. */
    @SuppressWarnings("unchecked")
    protected S activate(R rule, Governance governance) {
        return (S) new ActiveRule<>(this, rule);
    }

    /**
     * The rule's decision on a call it covers: {@code rule.pass()}, {@code rule.refuse()}, or a permit of the rule's
     * own that holds something until the call ends. Default: refuse.
     */
    protected Permit decide(S rule, RequestContext ctx, Governance governance) {
        return rule.refuse();
    }

    /** Answers a call an intercept rule refused. Default: the kind's protocol-native error with the rule's message. */
    protected FilterStatus enforce(S rule, RequestContext ctx) {
        ctx.respondError(error, rule.message());
        return FilterStatus.STOP;
    }

    /** True when an enforced refusal is an injection: counted {@code injected}, not {@code rejected}. */
    protected boolean injects() {
        return false;
    }

    /** Meters of one rule beyond the per-outcome counters, added to {@code out} (removed with the rule). */
    protected void meters(S rule, MeterRegistry registry, List<Meter> out) {
    }

    /** The log file this kind writes once a second ({@link #report}), or null for none. */
    public String logFile() {
        return null;
    }

    /** Writes one rule's line of the last second to {@link #logFile()}, if it has one (governance log thread). */
    protected void report(S rule, RuleCounters.Counts delta, Logger log) {
    }

    // The framework holds rules as ActiveRule<?>; each was built by this kind's activate, so these casts hold.

    @SuppressWarnings("unchecked")
    final ActiveRule<?> activateUnchecked(RuleConfig rule, Governance governance) {
        return activate((R) rule, governance);
    }

    @SuppressWarnings("unchecked")
    final List<ActiveRule<?>> enforcedUnchecked(List<ActiveRule<?>> applying) {
        return (List<ActiveRule<?>>) (List<?>) policy.enforced((List<S>) (List<?>) applying);
    }

    @SuppressWarnings("unchecked")
    final void metersUnchecked(ActiveRule<?> rule, MeterRegistry registry, List<Meter> out) {
        meters((S) rule, registry, out);
    }

    @SuppressWarnings("unchecked")
    final void reportUnchecked(ActiveRule<?> rule, RuleCounters.Counts delta, Logger log) {
        report((S) rule, delta, log);
    }

    final Policy<S> policy() {
        return policy;
    }
}
