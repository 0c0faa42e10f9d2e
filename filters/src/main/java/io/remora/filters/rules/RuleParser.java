package io.remora.filters.rules;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.remora.core.config.ConfigException;
import io.remora.core.config.SidecarConfig;
import io.remora.core.filter.Direction;
import io.remora.filters.condition.Condition;
import io.remora.filters.condition.ConditionSet;
import io.remora.filters.condition.Field;
import io.remora.filters.condition.Operator;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Validates and compiles the {@code extensions.governance} section: the fields every rule has here, each kind's own
 * fields by its {@link RuleKind#parse}. Every error is a {@link ConfigException} whose path names the rule's position
 * and field, and whose message names the rule.
 */
public final class RuleParser {

    /** The key under {@link SidecarConfig#extensions()}. */
    public static final String EXTENSION_KEY = "governance";
    public static final String BASE_PATH = "extensions." + EXTENSION_KEY;

    private RuleParser() {
    }

    /** The governance rules of {@code config} (empty when it has none). */
    public static GovernanceRules parse(RuleKinds kinds, SidecarConfig config) throws ConfigException {
        JsonNode g = config.extensions() == null ? null : config.extensions().get(EXTENSION_KEY);
        return parse(kinds, g, BASE_PATH);
    }

    public static GovernanceRules parse(RuleKinds kinds, JsonNode governance, String path) throws ConfigException {
        if (governance == null || governance.isNull()) {
            return GovernanceRules.empty(kinds);
        }
        if (!governance.isObject()) {
            throw new ConfigException(path, "must be an object with " + kinds.names() + ", was "
                    + governance.getNodeType());
        }
        for (Iterator<String> it = governance.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (kinds.named(k) == null) {
                throw new ConfigException(path + "." + k, "unknown rule kind (one of " + kinds.names() + ")");
            }
        }
        Map<String, List<RuleConfig>> byKind = new HashMap<>();
        ObjectNode normalized = JsonNodeFactory.instance.objectNode();
        for (RuleKind<?, ?> kind : kinds.all()) {
            String kp = path + "." + kind.name();
            JsonNode list = governance.get(kind.name());
            ArrayNode out = normalized.putArray(kind.name());
            List<RuleConfig> parsed = new ArrayList<>();
            if (list != null && !list.isNull()) {
                if (!list.isArray()) {
                    throw new ConfigException(kp, "must be a list of rules, was " + list.getNodeType());
                }
                Set<String> names = new HashSet<>();
                for (int i = 0; i < list.size(); i++) {
                    JsonNode node = list.get(i);
                    RuleReader r = new RuleReader(node, kp + "[" + i + "]");
                    RuleScope scope = scope(r, kind.name(), node);
                    if (!names.add(scope.name())) {
                        throw r.error("name", "duplicate rule name \"" + scope.name() + "\" in " + kind.name());
                    }
                    parsed.add(kind.parse(r, scope));
                    r.finish();
                    out.add(node.deepCopy());
                }
            }
            byKind.put(kind.name(), List.copyOf(parsed));
        }
        return new GovernanceRules(Map.copyOf(byKind), normalized);
    }

    /** Validates one kind's rule list (the body of {@code PUT /api/v1/rules/{kind}}) in the context of the others. */
    public static GovernanceRules replaceKind(RuleKinds kinds, GovernanceRules current, String kind, JsonNode list)
            throws ConfigException {
        ObjectNode doc = current.document().deepCopy();
        doc.set(kind, list);
        return parse(kinds, doc, BASE_PATH);
    }

    private static RuleScope scope(RuleReader r, String kind, JsonNode node) throws ConfigException {
        String name = r.requiredText("name");
        r.ruleName(name);
        String app = r.text("app", RuleScope.ANY);
        Direction direction = r.choice("direction", true, "client", "server").equals("client")
                ? Direction.OUTBOUND : Direction.INBOUND;
        String service = r.requiredText("service");
        String method = r.text("method", RuleScope.ANY);
        boolean observe = r.choice("mode", false, "intercept", "observe").equals("observe");
        boolean enabled = r.bool("enabled", true);
        JsonNode conds = r.raw("conditions");
        ConditionSet conditions = conditions(conds, r);
        String matchKey = direction + "|" + service + "|" + method + "|" + observe + "|"
                + (conds == null ? "[]" : canonical(conds));
        return new RuleScope(kind, name, app, direction, service, method, observe, enabled, conditions,
                kind + ":" + canonical(node), matchKey);
    }

    private static ConditionSet conditions(JsonNode list, RuleReader rule) throws ConfigException {
        return conditions(list, rule, false);
    }

    /**
     * Parses a traffic condition list ({@code source} system | header, and with {@code allowTrace} also trace).
     * Shared with label routing.
     */
    public static ConditionSet conditions(JsonNode list, RuleReader rule, boolean allowTrace) throws ConfigException {
        if (list == null) {
            return ConditionSet.ALL;
        }
        if (!list.isArray()) {
            throw rule.error("conditions", "must be a list, was " + list.getNodeType());
        }
        List<Condition> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            RuleReader c = new RuleReader(list.get(i), rule.path() + ".conditions[" + i + "]");
            c.ruleName(rule.ruleNameOrNull());
            String source = allowTrace ? c.choice("source", false, "system", "header", "trace")
                    : c.choice("source", false, "system", "header");
            String fieldName = c.requiredText("field");
            Field field = null;
            if (source.equals("system")) {
                field = Field.byJsonName(fieldName);
                if (field == null) {
                    List<String> names = new ArrayList<>();
                    for (Field f : Field.values()) {
                        names.add(f.jsonName());
                    }
                    throw c.error("field", "unknown system field \"" + fieldName + "\" (one of "
                            + String.join(", ", names) + ")");
                }
            }
            String opName = c.requiredText("operator");
            Operator op = Operator.byJsonName(opName);
            if (op == null) {
                throw c.error("operator", "must be one of equals, not_equals, in, not_in, regex, was \""
                        + opName + "\"");
            }
            String value = null;
            Set<String> values = null;
            Pattern pattern = null;
            if (op.takesList()) {
                JsonNode vs = c.raw("values");
                if (c.raw("value") != null) {
                    throw c.error("value", "operator " + opName + " takes \"values\" (a list), not \"value\"");
                }
                if (vs == null || !vs.isArray() || vs.isEmpty()) {
                    throw c.error("values", "is required for operator " + opName + " (a non-empty list of strings)");
                }
                values = new HashSet<>();
                for (int j = 0; j < vs.size(); j++) {
                    if (!vs.get(j).isTextual()) {
                        throw c.error("values[" + j + "]", "must be a string, was " + vs.get(j));
                    }
                    values.add(vs.get(j).textValue());
                }
                values = Set.copyOf(values);
            } else {
                if (c.raw("values") != null) {
                    throw c.error("values", "operator " + opName + " takes \"value\" (a string), not \"values\"");
                }
                value = c.requiredText("value");
                if (op == Operator.REGEX) {
                    try {
                        pattern = Pattern.compile(value);
                    } catch (PatternSyntaxException e) {
                        throw c.error("value", "invalid regex \"" + value + "\": " + e.getDescription());
                    }
                }
            }
            c.finish();
            out.add(field != null ? Condition.onField(field, op, value, values, pattern)
                    : source.equals("trace") ? Condition.onTrace(fieldName, op, value, values, pattern)
                    : Condition.onHeader(fieldName, op, value, values, pattern));
        }
        return ConditionSet.of(out);
    }

    /** JSON text with object keys sorted, so equal content gives equal text. */
    static String canonical(JsonNode n) {
        StringBuilder sb = new StringBuilder();
        canonical(n, sb);
        return sb.toString();
    }

    private static void canonical(JsonNode n, StringBuilder sb) {
        if (n.isObject()) {
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            n.fields().forEachRemaining(e -> sorted.put(e.getKey(), e.getValue()));
            sb.append('{');
            boolean first = true;
            for (var e : sorted.entrySet()) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                sb.append(JsonNodeFactory.instance.textNode(e.getKey())).append(':');
                canonical(e.getValue(), sb);
            }
            sb.append('}');
        } else if (n.isArray()) {
            sb.append('[');
            for (int i = 0; i < n.size(); i++) {
                if (i > 0) {
                    sb.append(',');
                }
                canonical(n.get(i), sb);
            }
            sb.append(']');
        } else {
            sb.append(n);
        }
    }
}
