package io.remora.filters.rules;

import com.fasterxml.jackson.databind.JsonNode;
import io.remora.core.config.ConfigException;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;

/**
 * Reads one rule object field by field, so every error names the full path and the rule. Fields never read are
 * reported by {@link #finish()} as unknown (a typo must not silently become a default).
 */
public final class RuleReader {

    private final JsonNode node;
    private final String path;
    private final Set<String> seen = new HashSet<>();
    private String ruleName;

    public RuleReader(JsonNode node, String path) throws ConfigException {
        if (node == null || !node.isObject()) {
            throw new ConfigException(path, "must be an object, was " + (node == null ? "null" : node.getNodeType()));
        }
        this.node = node;
        this.path = path;
    }

    public String path() {
        return path;
    }

    public void ruleName(String name) {
        this.ruleName = name;
    }

    String ruleNameOrNull() {
        return ruleName;
    }

    /** An error on {@code field}, naming the rule when its name is known. */
    public ConfigException error(String field, String problem) {
        String p = field == null ? path : path + "." + field;
        return new ConfigException(p, ruleName == null ? problem : problem + " (rule \"" + ruleName + "\")");
    }

    public JsonNode raw(String field) {
        seen.add(field);
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v;
    }

    /** True when {@code field} is given (not null). */
    public boolean has(String field) {
        return raw(field) != null;
    }

    public String text(String field, String defaultValue) throws ConfigException {
        JsonNode v = raw(field);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isTextual()) {
            throw error(field, "must be a string, was " + v);
        }
        return v.textValue();
    }

    public String requiredText(String field) throws ConfigException {
        String s = text(field, null);
        if (s == null || s.isBlank()) {
            throw error(field, "is required");
        }
        return s;
    }

    /** One of {@code choices}; the first choice is the default when {@code required} is false. */
    public String choice(String field, boolean required, String... choices) throws ConfigException {
        String s = text(field, null);
        if (s == null) {
            if (required) {
                throw error(field, "is required (one of " + String.join(", ", choices) + ")");
            }
            return choices[0];
        }
        for (String c : choices) {
            if (c.equals(s)) {
                return c;
            }
        }
        throw error(field, "must be one of " + String.join(", ", choices) + ", was \"" + s + "\"");
    }

    public boolean bool(String field, boolean defaultValue) throws ConfigException {
        JsonNode v = raw(field);
        if (v == null) {
            return defaultValue;
        }
        if (!v.isBoolean()) {
            throw error(field, "must be true or false, was " + v);
        }
        return v.booleanValue();
    }

    /** A whole number in [min, max]; {@code defaultValue} null makes it required. */
    public long integer(String field, Long defaultValue, long min, long max) throws ConfigException {
        JsonNode v = raw(field);
        if (v == null) {
            if (defaultValue == null) {
                throw error(field, "is required");
            }
            return defaultValue;
        }
        if (!v.isNumber()) {
            throw error(field, "must be a number, was " + v);
        }
        if (!v.isIntegralNumber() && v.doubleValue() != Math.rint(v.doubleValue())) {
            throw error(field, "must be a whole number, was " + v);
        }
        long x = v.longValue();
        checkRange(field, x, min, max, v);
        return x;
    }

    /** A number in [min, max] (or (min, max] when {@code minExclusive}); null default makes it required. */
    public double number(String field, Double defaultValue, double min, boolean minExclusive, double max)
            throws ConfigException {
        JsonNode v = raw(field);
        if (v == null) {
            if (defaultValue == null) {
                throw error(field, "is required");
            }
            return defaultValue;
        }
        if (!v.isNumber()) {
            throw error(field, "must be a number, was " + v);
        }
        double x = v.doubleValue();
        if (minExclusive ? x <= min : x < min) {
            throw error(field, "must be " + (minExclusive ? "> " : ">= ") + fmt(min) + ", was " + v);
        }
        if (x > max) {
            throw error(field, "must be <= " + fmt(max) + ", was " + v);
        }
        return x;
    }

    private void checkRange(String field, long x, long min, long max, JsonNode v) throws ConfigException {
        if (x < min) {
            throw error(field, min == 1 ? "must be > 0, was " + v : "must be >= " + min + ", was " + v);
        }
        if (x > max) {
            throw error(field, "must be <= " + max + ", was " + v);
        }
    }

    private static String fmt(double d) {
        return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
    }

    /** Reports the first field that no reader asked for. */
    public void finish() throws ConfigException {
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!seen.contains(f)) {
                throw error(f, "unknown field");
            }
        }
    }
}
