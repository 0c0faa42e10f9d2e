package io.remora.filters.auth;

import io.remora.core.config.ConfigException;
import io.remora.core.protocol.ProxyError;
import io.remora.filters.rules.ActiveRule;
import io.remora.filters.rules.Policy;
import io.remora.filters.rules.RuleKind;
import io.remora.filters.rules.RuleReader;
import io.remora.filters.rules.RuleScope;

/**
 * {@code access_control}: service-level whitelists (allow lists) and blacklists (deny lists) of callers. Intercept
 * rules decide; observe rules are evaluated the same way on their own and only count the calls they would have denied.
 */
public final class AccessControlKind extends RuleKind<AccessRule, ActiveRule<AccessRule>> {

    public AccessControlKind() {
        super(AccessRule.KIND, Policy.allowDenyList(r -> r.rule().whitelist()), ProxyError.UNAUTHORIZED,
                "access denied");
    }

    @Override
    protected AccessRule parse(RuleReader r, RuleScope scope) throws ConfigException {
        return new AccessRule(scope, r.choice("type", true, "whitelist", "blacklist").equals("whitelist"));
    }
}
