package io.remora.filters.condition;

/** How a condition compares the field's value. */
public enum Operator {
    EQUALS("equals", false),
    NOT_EQUALS("not_equals", false),
    IN("in", true),
    NOT_IN("not_in", true),
    /** Java regex, whole-value match ({@link java.util.regex.Matcher#matches()}). */
    REGEX("regex", false);

    private final String jsonName;
    private final boolean takesList;

    Operator(String jsonName, boolean takesList) {
        this.jsonName = jsonName;
        this.takesList = takesList;
    }

    public String jsonName() {
        return jsonName;
    }

    /** True when the condition gives {@code values} (a list), false when it gives {@code value}. */
    public boolean takesList() {
        return takesList;
    }

    public static Operator byJsonName(String name) {
        for (Operator o : values()) {
            if (o.jsonName.equals(name)) {
                return o;
            }
        }
        return null;
    }
}
