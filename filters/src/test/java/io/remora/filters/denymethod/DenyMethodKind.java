package io.remora.filters.denymethod;

import io.remora.core.config.ConfigException;
import io.remora.core.filter.RequestContext;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.Permit;
import io.remora.filters.rules.Policy;
import io.remora.filters.rules.RuleConfig;
import io.remora.filters.rules.RuleKind;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;

/**
 * A rule kind written outside the module's main code, with its public API only: {@code deny_method} refuses the calls
 * its rule covers (service, method, conditions) with the protocol's "unauthorized" error, text
 * {@code method denied by rule <name>}, unless they carry the rule's {@code unless_header}.
 */
public final class DenyMethodKind extends RuleKind<DenyMethodKind.Rule, ActiveRule<DenyMethodKind.Rule>> {

    public record Rule(RuleScope scope, String unlessHeader) implements RuleConfig {
    }

    public DenyMethodKind() {
        super("deny_method", Policy.everyMatch(), ProxyError.UNAUTHORIZED, "method denied");
    }

    @Override
    protected Rule parse(RuleReader r, RuleScope scope) throws ConfigException {
        return new Rule(scope, r.text("unless_header", null));
    }

    @Override
    protected Permit decide(ActiveRule<Rule> rule, RequestContext ctx, Governance governance) {
        String h = rule.rule().unlessHeader();
        return h != null && ctx.request().header(h) != null ? rule.pass() : rule.refuse();
    }
}
