package io.remora.filters.condition;

import io.remora.core.filter.RequestContext;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One compiled traffic condition: a field (system field or request header) compared by an operator. Regexes are
 * compiled and lists hashed once, when the rule set is compiled. An absent field equals nothing: {@code equals},
 * {@code in} and {@code regex} fail, {@code not_equals} and {@code not_in} hold.
 */
public final class Condition {

    private final Field field;
    /** Header name when {@link #field} is null. */
    private final String header;
    private final Operator operator;
    private final String value;
    private final Set<String> values;
    private final Pattern pattern;
    /** Trace context key (label routing's {@code trace} source), else null. */
    private String trace;

    private Condition(Field field, String header, Operator operator, String value, Set<String> values,
                      Pattern pattern) {
        this.field = field;
        this.header = header;
        this.operator = operator;
        this.value = value;
        this.values = values;
        this.pattern = pattern;
    }

    /** A condition on a system field. {@code pattern} is set for {@link Operator#REGEX}. */
    public static Condition onField(Field field, Operator op, String value, Set<String> values, Pattern pattern) {
        return new Condition(field, null, op, value, values, pattern);
    }

    /** A condition on a request header (Bolt header, Dubbo attachment, HTTP header). */
    public static Condition onHeader(String header, Operator op, String value, Set<String> values, Pattern pattern) {
        return new Condition(null, header, op, value, values, pattern);
    }

    /** A condition on a trace context value (see {@link TraceValues}); routing rules only. */
    public static Condition onTrace(String key, Operator op, String value, Set<String> values, Pattern pattern) {
        Condition c = new Condition(null, null, op, value, values, pattern);
        c.trace = key;
        return c;
    }

    public boolean matches(RequestContext ctx) {
        String v = field != null ? field.read(ctx)
                : trace != null ? TraceValues.read(ctx.request(), trace) : ctx.request().header(header);
        return test(v);
    }

    boolean test(String v) {
        return switch (operator) {
            case EQUALS -> v != null && v.equals(value);
            case NOT_EQUALS -> v == null || !v.equals(value);
            case IN -> v != null && values.contains(v);
            case NOT_IN -> v == null || !values.contains(v);
            case REGEX -> v != null && pattern.matcher(v).matches();
        };
    }

    @Override
    public String toString() {
        return (field != null ? field.jsonName() : trace != null ? "trace " + trace : "header " + header) + " " + operator.jsonName() + " "
                + (operator.takesList() ? values : value);
    }
}
