package io.remora.filters.rules;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * One validated rule set (all kinds), immutable.
 *
 * @param byKind   each kind's rules, in config order, by kind name
 * @param document the rules as JSON with every kind present (empty lists for none), each rule exactly as given: what
 *                 export writes and import reads
 */
public record GovernanceRules(Map<String, List<RuleConfig>> byKind, ObjectNode document) {

    /** No rules of any of {@code kinds}. */
    public static GovernanceRules empty(RuleKinds kinds) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        for (String k : kinds.names()) {
            d.putArray(k);
        }
        return new GovernanceRules(Map.of(), d);
    }

    /** The rules of kind {@code kind}, in config order. */
    public List<RuleConfig> rules(String kind) {
        return byKind.getOrDefault(kind, List.of());
    }
}
