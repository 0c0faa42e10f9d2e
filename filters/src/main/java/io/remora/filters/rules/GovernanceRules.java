package io.remora.filters.rules;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.filters.auth.AccessRule;
import io.remora.filters.circuitbreaker.CircuitBreakerRule;
import io.remora.filters.fault.FaultRule;
import io.remora.filters.ratelimit.RateLimitRule;
import java.util.List;

/**
 * One validated rule set (all kinds), immutable.
 *
 * @param document the rules as JSON with every kind present (empty lists for none), each rule exactly as given: what
 *                 export writes and import reads
 */
public record GovernanceRules(List<RateLimitRule> rateLimit, List<CircuitBreakerRule> circuitBreaker,
                              List<FaultRule> faultInject, List<AccessRule> accessControl, ObjectNode document) {

    public static final GovernanceRules EMPTY = new GovernanceRules(List.of(), List.of(), List.of(), List.of(),
            emptyDocument());

    private static ObjectNode emptyDocument() {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        for (String k : RuleParser.KINDS) {
            d.putArray(k);
        }
        return d;
    }
}
