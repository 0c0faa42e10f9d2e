package io.remora.filters.condition;

import io.remora.core.filter.RequestContext;
import java.util.List;

/** Conditions that must all hold, checked in order. Empty matches all traffic. */
public final class ConditionSet {

    public static final ConditionSet ALL = new ConditionSet(new Condition[0]);

    private final Condition[] conditions;

    private ConditionSet(Condition[] conditions) {
        this.conditions = conditions;
    }

    public static ConditionSet of(List<Condition> conditions) {
        return conditions.isEmpty() ? ALL : new ConditionSet(conditions.toArray(new Condition[0]));
    }

    public boolean matches(RequestContext ctx) {
        for (Condition c : conditions) {
            if (!c.matches(ctx)) {
                return false;
            }
        }
        return true;
    }

    public int size() {
        return conditions.length;
    }

    @Override
    public String toString() {
        return List.of(conditions).toString();
    }
}
